import assert from 'node:assert/strict';
import pg from 'pg';
import { requestFrom, type Answer } from './support/requestFrom.js';
import { startServiceProcess, type ServiceProcess } from './support/startServiceProcess.js';
import { OVERVIEW_UID } from '../grafana/src/overviewDashboard.js';
import { renderDashboards } from '../grafana/src/writeDashboards.js';
import { parseConfig } from '../src/config/parseConfig.js';
import { sampleValue } from './support/metricsText.js';
import { alert, startTestService } from './support/startTestService.js';
import { adminUrl, createTestDatabase, type TestDatabase } from './support/testDatabase.js';
import { waitFor } from './support/waitFor.js';

const ALERTS = 20;
const LIMIT_PER_MINUTE = 10;
const PROCESSES = 2;
const SHARE = LIMIT_PER_MINUTE / PROCESSES;
/** Gauges every web process reads from the shared database (at scrape time, or signals_stuck at its signal watch's runs). */
const SHARED_GAUGES = ['signal_queue_depth', 'signal_queue_oldest_job_age_seconds', 'signals_stuck', 'tradingview_last_signal_timestamp_seconds'];

/** One POST to a process's webhook endpoint, from loopback source address `from` (a distinct client IP). */
function send(proc: ServiceProcess, from: string, body: unknown): Promise<Answer> {
  return requestFrom({ url: `${proc.url}/api/webhooks/tradingview`, localAddress: from, body: JSON.stringify(body) });
}

/**
 * Two web processes on one database, as a trader who outgrew one box runs them: `a` with the worker, `b`
 * without (WORKER_ENABLED=false), each a real OS process on its own port, both with RATE_LIMIT_PER_MINUTE=10
 * spread over RATE_LIMIT_PROCESS_COUNT=2.
 */
describe('several service processes on one database', function () {
  this.timeout(120_000);
  let db: TestDatabase;
  let sql: pg.Client;
  let a: ServiceProcess;
  let b: ServiceProcess;
  const alertTime = new Date().toISOString();

  before(async () => {
    db = await createTestDatabase();
    sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    const common = { DATABASE_URL: db.url, RATE_LIMIT_PER_MINUTE: String(LIMIT_PER_MINUTE), RATE_LIMIT_PROCESS_COUNT: String(PROCESSES) };
    // Started together: both run the migrations at start-up, under one advisory lock.
    [a, b] = await Promise.all([
      startServiceProcess({ ...common, WORKER_ENABLED: 'true', WORKER_POLL_INTERVAL_MS: '100' }),
      startServiceProcess({ ...common, WORKER_ENABLED: 'false' }),
    ]);
  });

  after(async () => {
    const codes = await Promise.all([a?.stop(), b?.stop()]);
    await sql?.end();
    await db?.drop();
    assert.deepEqual(codes, [0, 0], `both processes stop cleanly on SIGTERM\n${a?.output().slice(-800)}\n${b?.output().slice(-800)}`);
  });

  const count = async (query: string, params: unknown[] = []) => (await sql.query(query, params)).rows[0].n as number;

  it('the same alerts sent to both at once: one signal each, executed once, each answered accepted by one process and duplicate by the other', async () => {
    const alerts = Array.from({ length: ALERTS }, (_, i) =>
      alert({ id: `multi-${i}`, time: alertTime, ticker: 'BINANCE:ETHUSDT', quantity: '1', price: String(2000 + i) }),
    );
    // Each alert from its own client address (so the rate limit stays out of the way), to `a` in order and to
    // `b` in reverse order, all at once: the two processes' batches meet the same dedupe keys in opposite orders.
    const from = (i: number) => `127.0.1.${i + 1}`;
    const [toA, toB] = await Promise.all([
      Promise.all(alerts.map((body, i) => send(a, from(i), body))),
      Promise.all(alerts.map((_, j) => ALERTS - 1 - j).map((i) => send(b, from(i), alerts[i]))).then((r) => r.reverse()),
    ]);

    for (let i = 0; i < ALERTS; i += 1) {
      const pair = [toA[i]!, toB[i]!];
      assert.deepEqual(pair.map((r) => r.status), [200, 200], `alert ${i}: ${pair.map((r) => r.text).join(' | ')}`);
      assert.deepEqual(pair.map((r) => r.json.status).sort(), ['accepted', 'duplicate'], `alert ${i}: ${pair.map((r) => r.text).join(' | ')}`);
      assert.equal(pair[0]!.json.signalId, pair[1]!.json.signalId, `alert ${i}: both answers name the one signal`);
    }
    const signalIds = toA.map((r) => r.json.signalId as string);

    assert.equal(await count("SELECT count(*)::int AS n FROM signals WHERE alert_id LIKE 'multi-%'"), ALERTS);
    // Only `a` runs a worker; it executes every signal, whichever process stored it.
    await waitFor(
      async () => (await count("SELECT count(*)::int AS n FROM signals WHERE id = ANY($1::uuid[]) AND status = 'executed'", [signalIds])) === ALERTS,
      { timeoutMs: 30_000, what: `${ALERTS} signals executed by the worker in process a` },
    ).catch(async (err: unknown) => {
      const jobs = (await sql.query('SELECT id, key, run_at, attempts, locked_at, locked_by, last_error FROM graphile_worker.jobs ORDER BY id')).rows;
      const signals = (await sql.query('SELECT id, status, last_error FROM signals WHERE id = ANY($1::uuid[]) ORDER BY id', [signalIds])).rows;
      throw new Error(`${(err as Error).message}\njobs: ${JSON.stringify(jobs)}\nsignals: ${JSON.stringify(signals)}\nprocess a:\n${a.output().slice(-4000)}`);
    });
    assert.equal(await count('SELECT count(*)::int AS n FROM executions WHERE signal_id = ANY($1::uuid[])', [signalIds]), ALERTS);
    const position = await sql.query("SELECT quantity::float8 AS q FROM positions WHERE ticker = 'ETHUSDT'");
    assert.equal(position.rows[0]?.q, ALERTS, 'the paper position moved once per alert');

    // Both processes record every webhook they answered (2 per alert), with the answer each gave.
    const webhookIds = [...toA, ...toB].map((r) => r.json.webhookId as string);
    const records = await waitFor(async () => {
      const rows = (await sql.query('SELECT id, outcome, signal_id FROM webhook_requests WHERE id = ANY($1::uuid[])', [webhookIds])).rows;
      return rows.length === 2 * ALERTS ? rows : undefined;
    }, { what: `${2 * ALERTS} webhook records from the two processes` });
    const byId = new Map(records.map((r) => [r.id as string, r]));
    for (const r of [...toA, ...toB]) {
      assert.equal(byId.get(r.json.webhookId)?.outcome, r.json.status);
      assert.equal(byId.get(r.json.webhookId)?.signal_id, r.json.signalId);
    }
  });

  it('gauges read from the shared database are the same on every process, so the overview dashboard takes their max, not their sum', async () => {
    const [textA, textB] = await Promise.all([a, b].map(async (proc) => (await fetch(`${proc.opsUrl}/metrics`)).text()));
    for (const gauge of SHARED_GAUGES) assert.equal(sampleValue(textA!, gauge), sampleValue(textB!, gauge), gauge);
    assert.ok(sampleValue(textA!, 'tradingview_last_signal_timestamp_seconds') > 0);
    const overview = renderDashboards()[`${OVERVIEW_UID}.json`]!;
    const expressions = [...overview.matchAll(/"expr":\s*"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
    for (const gauge of SHARED_GAUGES) {
      const summed = expressions.filter((e) => new RegExp(`sum\\b[^(]*\\([^()]*\\b${gauge}\\b`).test(e));
      assert.deepEqual(summed, [], `${gauge} summed over processes counts the one queue once per process`);
    }
  });

  it('RATE_LIMIT_PER_MINUTE over RATE_LIMIT_PROCESS_COUNT=2: each process lets one client through for its share, 10 in all', async () => {
    const client = '127.0.2.1';
    const body = (proc: string, i: number) => alert({ id: `limit-${proc}-${i}`, time: alertTime, price: String(100 + i) });
    const [fromA, fromB] = await Promise.all([
      Promise.all(Array.from({ length: LIMIT_PER_MINUTE }, (_, i) => send(a, client, body('a', i)))),
      Promise.all(Array.from({ length: LIMIT_PER_MINUTE }, (_, i) => send(b, client, body('b', i)))),
    ]);
    for (const answers of [fromA, fromB]) {
      assert.equal(answers.filter((r) => r.status === 200 && r.json.status === 'accepted').length, SHARE, answers.map((r) => r.status).join(','));
      const limited = answers.filter((r) => r.status === 429);
      assert.equal(limited.length, LIMIT_PER_MINUTE - SHARE);
      for (const r of limited) {
        assert.equal(r.json.error.code, 'WH_ERR_RATE_LIMITED');
        assert.deepEqual(
          { limit: r.json.error.details.limitPerMinute, share: r.json.error.details.processLimitPerMinute },
          { limit: LIMIT_PER_MINUTE, share: SHARE },
        );
        assert.ok(Number(r.headers['retry-after']) >= 1);
      }
    }
    assert.equal(await count("SELECT count(*)::int AS n FROM signals WHERE alert_id LIKE 'limit-%'"), LIMIT_PER_MINUTE, 'the README figure, in all');
  });

  it('a refusal for the rate limit needs no database: answered 429 while the database refuses every connection, when a request within the limit gets 503', async () => {
    const limitedClient = '127.0.2.1'; // used up by the previous test, on both processes
    const freshClient = '127.0.2.2';
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    const ident = pg.escapeIdentifier(db.name);
    try {
      // The database goes away: no new connection is allowed, and every open one (the pools') is ended.
      await admin.query(`ALTER DATABASE ${ident} ALLOW_CONNECTIONS false`);
      await sql.end();
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [db.name]);
      await waitFor(async () => (await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [db.name])).rows[0].n === 0, {
        what: 'every connection to the test database ended',
      });

      const fresh = await send(a, freshClient, alert({ id: 'outage-1', time: alertTime }));
      assert.equal(fresh.status, 503, `a request within the limit needs the database, and it is gone: ${fresh.text}`);
      assert.equal(fresh.json.error.code, 'WH_ERR_UNAVAILABLE');
      for (const proc of [a, b]) {
        for (let i = 0; i < 5; i += 1) {
          const refused = await send(proc, limitedClient, alert({ id: `outage-limited-${i}`, time: alertTime }));
          assert.equal(refused.status, 429, refused.text);
          assert.equal(refused.json.error.code, 'WH_ERR_RATE_LIMITED');
        }
      }
    } finally {
      await admin.query(`ALTER DATABASE ${ident} ALLOW_CONNECTIONS true`);
      await admin.end();
      sql = new pg.Client({ connectionString: db.url });
      await sql.connect();
    }
    // Both processes recover by themselves, and TradingView's resend of the alert that got 503 is accepted.
    for (const proc of [a, b]) {
      await waitFor(async () => (await fetch(`${proc.url}/readyz`)).ok, { what: 'ready again once the database is back' });
    }
    const resent = await send(b, freshClient, alert({ id: 'outage-1', time: alertTime }));
    assert.equal(resent.status, 200, resent.text);
    assert.equal(resent.json.status, 'accepted');
    assert.equal(await count("SELECT count(*)::int AS n FROM signals WHERE alert_id LIKE 'outage-%'"), 1);
  });
});

describe('rate limit share in one process: RATE_LIMIT_PER_MINUTE=3 over RATE_LIMIT_PROCESS_COUNT=2', () => {
  it('lets ceil(3 / 2) = 2 through, then answers 429 without taking a connection from the request pool', async () => {
    const svc = await startTestService({ RATE_LIMIT_PER_MINUTE: '3', RATE_LIMIT_PROCESS_COUNT: '2' });
    try {
      let statements = 0;
      svc.pool.on('acquire', () => (statements += 1));
      for (let i = 0; i < 2; i += 1) assert.equal((await svc.post(alert({ price: 10 + i }))).body.status, 'accepted');
      assert.ok(statements >= 1, 'the counter sees the accepted alerts\' statements');
      statements = 0;
      for (let i = 0; i < 3; i += 1) {
        const refused = await svc.post(alert({ price: 20 + i }));
        assert.equal(refused.status, 429);
        assert.match(refused.body.error.message, /the limit is 3 per minute over 2 processes, 2 through this one \(RATE_LIMIT_PROCESS_COUNT\)/);
      }
      assert.equal(statements, 0, 'a refusal costs no database statement');
    } finally {
      await svc.close();
    }
  });

  it('RATE_LIMIT_PROCESS_COUNT must be a whole number from 1', () => {
    assert.throws(() => parseConfig({ RATE_LIMIT_PROCESS_COUNT: '0' }), /RATE_LIMIT_PROCESS_COUNT="0"/);
  });
});
