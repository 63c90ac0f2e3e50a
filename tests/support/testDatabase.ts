import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { migrate } from '../../src/db/migrate.js';
import { startEmbeddedPostgres, type EmbeddedServer } from '../../src/db/startEmbeddedPostgres.js';
import { freePort } from './freePort.js';

/**
 * One Postgres server for the whole run: the embedded one (a fresh cluster in a temporary folder), or the
 * server at TEST_DATABASE_URL. Each test gets its own database, cloned from a migrated template.
 */
interface ServerState {
  adminUrl: string;
  embedded?: EmbeddedServer;
  dataDir?: string;
  template: string;
}

let state: ServerState | undefined;
let counter = 0;
/** Superuser password of the test suite's own embedded server (a throwaway cluster in a temporary folder). */
export const TEST_PG_PASSWORD = randomBytes(18).toString('base64url');
export const quietLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function startTestServer(): Promise<void> {
  if (state) return;
  let adminUrl = process.env.TEST_DATABASE_URL;
  let embedded: EmbeddedServer | undefined;
  let dataDir: string | undefined;
  if (!adminUrl) {
    dataDir = await mkdtemp(path.join(tmpdir(), 'tvw-test-'));
    // The embedded server runs as the `postgres` user when we are root: it must be able to enter the folder.
    await chmod(dataDir, 0o755);
    embedded = await startEmbeddedPostgres({ dataDir, port: await freePort(), superuserPassword: TEST_PG_PASSWORD, logger: quietLogger });
    adminUrl = embedded.adminUrl;
  }
  const template = `tvw_template_${process.pid}`;
  await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${template}`);
  await adminQuery(adminUrl, `CREATE DATABASE ${template}`);
  await migrate(withDatabase(adminUrl, template), quietLogger);
  state = { adminUrl, embedded, dataDir, template };
}

export async function stopTestServer(): Promise<void> {
  if (!state) return;
  const s = state;
  state = undefined;
  if (s.embedded) {
    await s.embedded.stop();
    if (s.dataDir) await rm(s.dataDir, { recursive: true, force: true });
  } else {
    await adminQuery(s.adminUrl, `DROP DATABASE IF EXISTS ${s.template}`);
  }
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A new database with the schema applied (a copy of the migrated template: about 50 ms). */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (!state) await startTestServer();
  const s = state!;
  counter += 1;
  const name = `tvw_test_${process.pid}_${counter}`;
  await adminQuery(s.adminUrl, `CREATE DATABASE ${name} TEMPLATE ${s.template}`);
  return {
    url: withDatabase(s.adminUrl, name),
    name,
    drop: () => adminQuery(s.adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

export function adminUrl(): string {
  if (!state) throw new Error('test server not started');
  return state.adminUrl;
}
