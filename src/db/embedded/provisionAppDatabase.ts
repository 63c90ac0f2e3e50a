import pg from 'pg';
import type { Logger } from 'pino';
import { superuserUrl } from '../startEmbeddedPostgres.js';
import { ScramOnlyClient } from '../ScramOnlyClient.js';

/** The service's own role and database in the embedded cluster: not a superuser, owner of its database only. */
export const APP_ROLE = 'tvwebhook';
export const APP_DATABASE = 'tvwebhook';
/** The constant superuser password of clusters made before passwords were generated. */
const LEGACY_SUPERUSER_PASSWORD = 'embedded';

export function appUrl(port: number, password: string): string {
  return `postgres://${APP_ROLE}:${encodeURIComponent(password)}@127.0.0.1:${port}/${APP_DATABASE}`;
}

async function connect(url: string): Promise<pg.Client> {
  // Always the embedded server here: only a completed SCRAM exchange (see ScramOnlyClient).
  const client = new ScramOnlyClient({ connectionString: url, application_name: 'tv-webhook-provision' });
  // A connection lost mid-provisioning fails the query that was running; it must not also be an uncaught event.
  client.on('error', () => undefined);
  try {
    await client.connect();
    return client;
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
}

/**
 * Makes the embedded cluster safe to share a host with other local users, and idempotently so:
 * - the superuser password is the generated one (a cluster still on the old constant password is moved to it);
 * - role `tvwebhook` (LOGIN, no superuser, no CREATEDB/CREATEROLE) with the generated app password;
 * - database `tvwebhook` owned by that role, closed to PUBLIC. A cluster that kept the service's data in the
 *   `postgres` database is migrated: that database is renamed and its schemas and objects handed to the role.
 * Returns the connection string the service uses.
 */
export async function provisionAppDatabase(options: { port: number; superuserPassword: string; appPassword: string; logger: Logger }): Promise<string> {
  const { port, superuserPassword, logger } = options;
  let admin: pg.Client;
  try {
    admin = await connect(superuserUrl(port, superuserPassword));
  } catch (err) {
    if ((err as { code?: string }).code !== '28P01') throw err;
    admin = await connect(superuserUrl(port, LEGACY_SUPERUSER_PASSWORD));
    await admin.query(`ALTER ROLE postgres PASSWORD ${admin.escapeLiteral(superuserPassword)}`);
    logger.info('embedded PostgreSQL: the superuser password is now the generated one (was a constant)');
  }
  let legacyData = false;
  try {
    const role = await admin.query('SELECT rolsuper FROM pg_roles WHERE rolname = $1', [APP_ROLE]);
    const attributes = `LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD ${admin.escapeLiteral(options.appPassword)}`;
    await admin.query(`${role.rowCount === 0 ? 'CREATE' : 'ALTER'} ROLE ${APP_ROLE} ${attributes}`);
    const db = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [APP_DATABASE]);
    if (db.rowCount === 0) {
      const tables = await admin.query(`SELECT to_regclass('public.pgmigrations') IS NOT NULL AS has`);
      legacyData = tables.rows[0].has === true;
      if (!legacyData) await admin.query(`CREATE DATABASE ${APP_DATABASE} OWNER ${APP_ROLE}`);
    }
  } finally {
    await admin.end().catch(() => undefined);
  }
  if (legacyData) await moveLegacyData(port, superuserPassword, logger);
  const owner = await connect(superuserUrl(port, superuserPassword, APP_DATABASE));
  try {
    await owner.query(`ALTER DATABASE ${APP_DATABASE} OWNER TO ${APP_ROLE}`);
    await owner.query(`REVOKE ALL ON DATABASE ${APP_DATABASE} FROM PUBLIC`);
    await owner.query(`GRANT ALL ON DATABASE ${APP_DATABASE} TO ${APP_ROLE}`);
  } finally {
    await owner.end().catch(() => undefined);
  }
  return appUrl(port, options.appPassword);
}

/**
 * Clusters made before this version kept the service's tables in `postgres`, owned by the superuser. The
 * database is renamed (from template1, so nobody is connected to it), a fresh `postgres` maintenance database is
 * made, and every schema, table, view, sequence, function and type of ours is handed to the app role.
 * Objects that belong to an extension (btree_gist) stay with the superuser.
 */
async function moveLegacyData(port: number, superuserPassword: string, logger: Logger): Promise<void> {
  const template = await connect(superuserUrl(port, superuserPassword, 'template1'));
  try {
    await template.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'postgres' AND pid <> pg_backend_pid()`);
    await template.query(`ALTER DATABASE postgres RENAME TO ${APP_DATABASE}`);
    await template.query('CREATE DATABASE postgres');
    await template.query(`ALTER DATABASE ${APP_DATABASE} OWNER TO ${APP_ROLE}`);
  } finally {
    await template.end().catch(() => undefined);
  }
  const db = await connect(superuserUrl(port, superuserPassword, APP_DATABASE));
  try {
    await db.query(REASSIGN_SQL);
  } finally {
    await db.end().catch(() => undefined);
  }
  logger.info({ database: APP_DATABASE, role: APP_ROLE }, 'embedded PostgreSQL: data moved to its own database and role');
}

const REASSIGN_SQL = `
DO $$
DECLARE
  r record;
  schemas text[] := ARRAY(SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema');
BEGIN
  FOR r IN SELECT nspname FROM pg_namespace WHERE nspname = ANY (schemas) LOOP
    EXECUTE format('ALTER SCHEMA %I OWNER TO ${APP_ROLE}', r.nspname);
  END LOOP;
  FOR r IN
    SELECT c.oid::regclass AS name, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = ANY (schemas) AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('e', 'a', 'i'))
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO ${APP_ROLE}',
      CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, r.name);
  END LOOP;
  FOR r IN
    SELECT p.oid::regprocedure AS name, p.prokind FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = ANY (schemas)
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO ${APP_ROLE}', CASE r.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END, r.name);
  END LOOP;
  FOR r IN
    SELECT t.oid::regtype AS name, t.typtype FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE n.nspname = ANY (schemas) AND t.typtype IN ('c', 'd', 'e', 'r') AND t.typelem = 0
       AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype IN ('e', 'i'))
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO ${APP_ROLE}', CASE r.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, r.name);
  END LOOP;
END $$`;
