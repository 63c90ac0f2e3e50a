import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { parseConfig } from '../src/config/parseConfig.js';
import { startEmbeddedPostgres } from '../src/db/startEmbeddedPostgres.js';
import { startService } from '../src/startService.js';
import { freePort } from './support/freePort.js';
import { alert, startTestService, TEST_SECRET, type TestService } from './support/startTestService.js';
import { startTargetServer } from './support/startTargetServer.js';
import { createTestDatabase, quietLogger, TEST_PG_PASSWORD } from './support/testDatabase.js';
import { waitFor } from './support/waitFor.js';

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tvw-life-'));
  await chmod(dir, 0o755);
  return dir;
}

describe('lifecycle: embedded database, outages, shutdown', function () {
  this.timeout(120_000);

  it('keeps signals and generated secrets across a restart on the embedded server', async () => {
    const dataDir = await tempDir();
    const env = { DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(await freePort()), PORT: '0', OPS_PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', WORKER_ENABLED: 'false' };
    try {
      const first = await startService(parseConfig(env), quietLogger);
      assert.equal(first.secrets.generated.webhookSecret, true);
      const secret = first.secrets.webhookSecrets[0]!;
      assert.ok(secret.length >= 40, 'a strong generated secret');
      const stored = JSON.parse(await readFile(path.join(dataDir, 'secrets.json'), 'utf8'));
      assert.equal(stored.webhookSecret, secret);
      const res = await fetch(`${first.url}/api/webhooks/tradingview`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alert({ secret })),
      });
      const answer = (await res.json()) as any;
      assert.equal(answer.status, 'accepted');
      await first.stop();

      const second = await startService(parseConfig(env), quietLogger);
      try {
        assert.equal(second.secrets.generated.webhookSecret, false);
        assert.equal(second.secrets.webhookSecrets[0], secret);
        const got = await fetch(`${second.url}/api/signals/${answer.signalId}`, {
          headers: { authorization: `Bearer ${second.secrets.adminToken}` },
        });
        assert.equal(got.status, 200);
        assert.equal(((await got.json()) as any).signal.status, 'queued');
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('answers 503 while the database is stopped and recovers without a restart', async () => {
    const dataDir = await tempDir();
    const port = await freePort();
    let pg = await startEmbeddedPostgres({ dataDir, port, superuserPassword: TEST_PG_PASSWORD, logger: quietLogger });
    const svc = await startTestService({ DB_TIMEOUT_MS: '500' }, { db: { url: pg.adminUrl, name: 'postgres', drop: async () => undefined } });
    try {
      assert.equal((await svc.post(alert({ price: 1 }))).status, 200);
      await pg.stop();
      const down = await svc.post(alert({ price: 2 }));
      assert.equal(down.status, 503);
      assert.equal(down.body.error.code, 'WH_ERR_UNAVAILABLE');
      const notReady = await svc.api('/readyz', { token: null });
      assert.equal(notReady.status, 503);
      // Nothing of the driver's error (the database's address, its user) reaches a caller without a token.
      assert.deepEqual(notReady.body.checks.database, { ok: false, detail: 'not reachable (the service log says why)' });
      // Refusals need no database: they keep their normal answers during the outage.
      const refused = await svc.post(alert({ secret: 'wrong-secret' }));
      assert.equal(refused.status, 401);
      const health = await svc.api('/api/monitoring/health');
      assert.equal(health.status, 503);
      assert.equal(health.body.status, 'unhealthy');
      assert.equal(health.body.checks.database.status, 'unhealthy');
      pg = await startEmbeddedPostgres({ dataDir, port, superuserPassword: TEST_PG_PASSWORD, logger: quietLogger });
      const back = await svc.post(alert({ price: 2 }));
      assert.equal(back.status, 200, JSON.stringify(back.body));
      assert.equal(back.body.status, 'accepted');
      const { rows } = await svc.pool.query('SELECT price FROM signals ORDER BY id');
      assert.deepEqual(rows.map((r) => r.price), [1, 2]);
      // The monitoring records of the outage are written once the database is back.
      await waitFor(async () => (await svc.pool.query('SELECT count(*)::int AS n FROM webhook_requests')).rows[0].n === 4, { what: 'records of all 4 webhooks' });
      const statuses = (await svc.pool.query('SELECT status, http_status FROM webhook_requests ORDER BY id')).rows.map((r) => `${r.status}:${r.http_status}`);
      assert.deepEqual(statuses, ['success:200', 'failed:503', 'rejected:401', 'success:200']);
    } finally {
      await svc.close();
      await pg.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('finishes a request in flight on shutdown, then refuses new connections', async () => {
    const svc = await startTestService();
    const body = JSON.stringify(alert({ price: 77 }));
    const { port } = new URL(svc.url);
    const answer = new Promise<{ status: number; body: any }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/api/webhooks/tradingview', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      });
      req.on('error', reject);
      req.write(body.slice(0, 10));
      // The rest of the body arrives only after shutdown has begun.
      setTimeout(() => req.end(body.slice(10)), 300);
    });
    await new Promise((r) => setTimeout(r, 100));
    const stopped = svc.stop();
    const res = await answer;
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'accepted');
    await stopped;
    assert.equal(svc.lifecycle.state, 'stopped');
    await assert.rejects(fetch(`${svc.url}/healthz`));
    await svc.db.drop();
  });

  /** A raw connection to the service, and everything it receives until the service closes it. */
  async function rawConnection(url: string) {
    const socket = net.connect(Number(new URL(url).port), '127.0.0.1');
    await once(socket, 'connect');
    let raw = '';
    socket.setEncoding('utf8').on('data', (c: string) => (raw += c));
    const closed = once(socket, 'close').then(() => raw);
    return { socket, closed };
  }

  async function queryDatabase<T>(url: string, run: (db: pg.Client) => Promise<T>): Promise<T> {
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      return await run(db);
    } finally {
      await db.end();
    }
  }

  /** Begins shutdown and waits until the listener no longer accepts connections; `stopped` is the shutdown. */
  async function stopAndWaitUntilClosed(svc: TestService): Promise<{ stopped: Promise<void> }> {
    const stopped = svc.stop();
    await waitFor(async () => !svc.app.server.listening, { what: 'the listener closed' });
    await assert.rejects(fetch(`${svc.url}/healthz`), 'new connections are refused');
    // Wrapped: an async function returning the promise itself would wait for the whole shutdown.
    return { stopped };
  }

  it('a webhook whose headers complete after shutdown began is processed, recorded and answered with Connection: close', async () => {
    // Before, Fastify answered such a request itself (return503OnClosing): a bare 503 in its own shape, with
    // no Retry-After, no security headers, no record and no count, so records no longer equalled answers.
    const svc = await startTestService();
    const body = JSON.stringify(alert({ price: 78 }));
    const { socket, closed } = await rawConnection(svc.url);
    socket.write('POST /api/webhooks/tradingview HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n');
    await new Promise((r) => setTimeout(r, 100));
    const { stopped } = await stopAndWaitUntilClosed(svc);
    // write, not end: a half-closed connection aborts its request (Node closes it once it has read the FIN).
    socket.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    const raw = await closed;
    await stopped;
    const [head, text] = raw.split('\r\n\r\n');
    assert.match(head!, /^HTTP\/1\.1 200 /, text);
    assert.match(head!, /\r\nconnection: close\r\n/i);
    assert.match(head!, /\r\nx-content-type-options: nosniff\r\n/i);
    const answer = JSON.parse(text!);
    assert.equal(answer.status, 'accepted');
    try {
      await queryDatabase(svc.db.url, async (db) => {
        const { rows } = await db.query('SELECT status, http_status FROM webhook_requests');
        assert.deepEqual(rows.map((r) => `${r.status}:${r.http_status}`), ['success:200']);
        assert.equal((await db.query('SELECT count(*)::int AS n FROM signals WHERE id = $1', [answer.signalId])).rows[0].n, 1);
      });
    } finally {
      await svc.db.drop();
    }
  });

  it('a webhook pipelined behind another during shutdown is refused unstored: its answer could never be sent', async () => {
    // The answer before it closes the connection (Connection: close while draining), and Node sends a pipelined
    // request's answer only after that one: processed, it would be stored with nobody told.
    const svc = await startTestService();
    const first = JSON.stringify(alert({ price: 79 }));
    const second = JSON.stringify(alert({ price: 80 }));
    const head = (body: string) => `POST /api/webhooks/tradingview HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    const { socket, closed } = await rawConnection(svc.url);
    socket.write(`${head(first)}${first.slice(0, 10)}`);
    await new Promise((r) => setTimeout(r, 100));
    const { stopped } = await stopAndWaitUntilClosed(svc);
    socket.write(`${first.slice(10)}${head(second)}${second}`);
    const raw = await closed;
    await stopped;
    assert.equal(raw.match(/HTTP\/1\.1 /g)?.length, 1, 'one answer: the connection closes after the first');
    assert.match(raw, /^HTTP\/1\.1 200 /);
    try {
      await queryDatabase(svc.db.url, async (db) => {
        assert.deepEqual((await db.query('SELECT price::float AS price FROM signals')).rows, [{ price: 79 }]);
        const { rows } = await db.query('SELECT status, http_status, error_code FROM webhook_requests ORDER BY id');
        assert.deepEqual(rows.map((r) => `${r.status}:${r.http_status}:${r.error_code}`), ['success:200:null', 'rejected:503:WH_ERR_SHUTTING_DOWN']);
      });
    } finally {
      await svc.db.drop();
    }
  });

  it('on shutdown the worker takes no new job while a request holds the HTTP drain open: none is cut off with Postgres stopped under it', async () => {
    // Two alerts of one ticker: the second's job runs after the first's (the symbol's queue). The bridge takes 1.5 s
    // to answer each. A stranger holds a request open with half a body, so the HTTP drain takes all 3 s.
    const target = await startTargetServer([{ status: 200, body: '{"orderId":"S-1"}', delayMs: 1_500 }]);
    const db = await createTestDatabase();
    const svc = await startTestService(
      { WORKER_ENABLED: 'true', EXECUTOR: 'forward', FORWARD_URL: target.url, FORWARD_TIMEOUT_MS: '2500', SHUTDOWN_TIMEOUT_MS: '3000', WORKER_POLL_INTERVAL_MS: '100' },
      { db },
    );
    const { port } = new URL(svc.url);
    const slow = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/api/webhooks/tradingview', headers: { 'content-type': 'application/json', 'content-length': 1000 } });
    slow.on('error', () => undefined);
    try {
      const first = await svc.post(alert({ price: 77 }));
      const second = await svc.post(alert({ price: 78 }));
      assert.deepEqual([first.status, second.status], [200, 200]);
      await target.received(1);
      slow.write('{"ticker":');
      await new Promise((r) => setTimeout(r, 100));
      await svc.stop();
      const check = new pg.Client({ connectionString: db.url });
      await check.connect();
      try {
        const status = async (id: string) => (await check.query('SELECT status FROM signals WHERE id = $1', [id])).rows[0].status;
        // Before, the worker was stopped only after the drain, with 100 ms left: the second order went out at 1.5 s
        // and was cut off at 3 s, its signal left executing with no execution, its job locked for 4 hours.
        assert.equal(await status(first.body.signalId), 'executed', 'the order in flight finished and is recorded');
        assert.equal(await status(second.body.signalId), 'queued', 'the next waits for the next start');
        assert.equal((await check.query('SELECT count(*)::int AS n FROM executions')).rows[0].n, 1);
      } finally {
        await check.end();
      }
      assert.equal(target.calls.length, 1);
    } finally {
      slow.destroy();
      await target.close();
      await db.drop();
    }
  });

  it('bounds shutdown by SHUTDOWN_TIMEOUT_MS when a request never completes', async () => {
    const svc = await startTestService({ SHUTDOWN_TIMEOUT_MS: '800' });
    const { port } = new URL(svc.url);
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/api/webhooks/tradingview', headers: { 'content-type': 'application/json', 'content-length': 1000 } });
    req.on('error', () => undefined);
    req.write('{"ticker":');
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await svc.stop();
    const tookMs = Date.now() - started;
    assert.ok(tookMs < 3000, `stop took ${tookMs} ms`);
    req.destroy();
    await svc.db.drop();
  });
});

describe('configuration', () => {
  it('names the wrong variable and what is allowed', () => {
    assert.throws(() => parseConfig({ PORT: 'eighty' }), /PORT="eighty"/);
    assert.throws(() => parseConfig({ LOG_LEVEL: 'loud' }), /LOG_LEVEL="loud".*(fatal|info)/s);
    assert.throws(() => parseConfig({ IP_ALLOWLIST: '10.0.0.0/33' }), /IP_ALLOWLIST.*prefix/);
    assert.throws(() => parseConfig({ EXECUTOR: 'forward' }), /FORWARD_URL: required/);
    assert.throws(() => parseConfig({ WEBHOOK_SIGNING_SECRET: 'abc' }), /WEBHOOK_SIGNING_SECRET.*whsec_/);
    assert.throws(() => parseConfig({ DB_POOL_MAX: '1' }), /DB_POOL_MAX=1: must be larger than SIGNAL_BATCHES_IN_FLIGHT \(1\)/);
    assert.throws(() => parseConfig({ DB_POOL_MAX: '4', SIGNAL_BATCHES_IN_FLIGHT: '4' }), /DB_POOL_MAX=4: must be larger than SIGNAL_BATCHES_IN_FLIGHT \(4\)/);
    assert.equal(parseConfig({ DB_POOL_MAX: '2' }).database.poolMax, 2);
  });

  it('refuses a record buffer larger than half of the V8 heap the process was started with, naming the setting and the flag', () => {
    const heapLimitBytes = 1024 * 2 ** 20;
    assert.throws(
      () => parseConfig({ MONITORING_BUFFER_MAX_BYTES: String(600 * 2 ** 20) }, { heapLimitBytes }),
      /MONITORING_BUFFER_MAX_BYTES=629145600: more than half of this process's V8 heap \(1024 MiB.*at most 512 MiB, or raise --max-old-space-size/s,
    );
    assert.equal(parseConfig({ MONITORING_BUFFER_MAX_BYTES: String(512 * 2 ** 20) }, { heapLimitBytes }).monitoring.sinkMaxBufferBytes, 512 * 2 ** 20);
    // The default (64 MiB) fits the heap the shipped start command gives (1 GiB).
    assert.equal(parseConfig({}, { heapLimitBytes }).monitoring.sinkMaxBufferBytes, 64 * 2 ** 20);
  });

  it('uses configured secrets over generated ones', async () => {
    const svc = await startTestService();
    try {
      assert.deepEqual(svc.secrets.webhookSecrets, [TEST_SECRET]);
      assert.equal(svc.secrets.generated.webhookSecret, false);
    } finally {
      await svc.close();
    }
  });
});
