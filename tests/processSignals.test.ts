import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { projectRoot } from '../src/db/projectRoot.js';
import { freePort } from './support/freePort.js';
import { alert, TEST_SECRET } from './support/startTestService.js';
import { createTestDatabase } from './support/testDatabase.js';
import { waitFor } from './support/waitFor.js';
import { makeTempDir } from './support/makeTempDir.js';

/** The real entry point (src/main.ts) in a child process, as `npm start` runs it. */
describe('process signals: SIGTERM drains, a second signal exits at once', function () {
  this.timeout(60_000);

  it('the first SIGTERM waits for the request in flight; a second one exits with code 1 without waiting', async () => {
    const db = await createTestDatabase();
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot(), 'src', 'main.ts')], {
      env: {
        ...process.env, DATABASE_URL: db.url, PORT: String(port), OPS_PORT: String(await freePort()), HOST: '127.0.0.1', LOG_LEVEL: 'info', WORKER_ENABLED: 'false',
        MONITORING_ENABLED: 'false', WEBHOOK_SECRETS: TEST_SECRET, ADMIN_TOKEN: 'x'.repeat(20), DATA_DIR: await makeTempDir('tvw-sig-'),
        DB_TIMEOUT_MS: '20000', SHUTDOWN_TIMEOUT_MS: '30000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const locker = new pg.Client({ connectionString: db.url });
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitFor(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.ok, { timeoutMs: 30_000, what: `service ready (${output.slice(-300)})` });
      // A request that cannot finish: its insert waits on a lock for up to DB_TIMEOUT_MS (20 s).
      await locker.connect();
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE signals IN ACCESS EXCLUSIVE MODE');
      const inFlight = fetch(`${url}/api/webhooks/tradingview`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alert()) }).catch(() => undefined);
      await waitFor(async () => (await locker.query("SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted")).rows[0].n > 0, { what: 'the request waiting on the lock' });

      child.kill('SIGTERM');
      await waitFor(async () => output.includes('shutting down'), { what: 'draining' });
      const stillRunning = await Promise.race([exited.then(() => false), new Promise((r) => setTimeout(() => r(true), 500))]);
      assert.ok(stillRunning, 'the first signal waits for the request in flight');

      const sentAt = Date.now();
      child.kill('SIGTERM');
      assert.equal(await exited, 1);
      assert.ok(Date.now() - sentAt < 5_000, 'the second signal does not wait for the drain');
      assert.match(output, /second signal: exiting now/);
      await inFlight;
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await locker.end().catch(() => undefined);
      await db.drop();
    }
  });
});
