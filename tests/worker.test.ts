import assert from 'node:assert/strict';
import { trace } from '@opentelemetry/api';
import pg from 'pg';
import { executeSignal } from '../src/execution/executeSignal.js';
import { makePaperExecutor } from '../src/execution/paperExecutor.js';
import { startWorker, type RunningWorker } from '../src/execution/startWorker.js';
import { makePool } from '../src/db/makePool.js';
import { alert, startTestService } from './support/startTestService.js';
import { startTargetServer } from './support/startTargetServer.js';
import { quietLogger } from './support/testDatabase.js';
import { waitFor } from './support/waitFor.js';
import { countJobs, lockAsDeadWorker } from './support/jobQueue.js';

async function count(pool: pg.Pool, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await pool.query(sql, params);
  return Number(rows[0].n);
}

describe('worker: exactly-once effects, recovery, concurrency, shutdown', function () {
  this.timeout(60_000);

  it('a job that runs twice (or twice at once) records one execution and moves the position once', async () => {
    const svc = await startTestService(); // worker off: the job stays queued
    const pool = makePool({ connectionString: svc.db.url, max: 4, timeoutMs: 5000, logger: quietLogger });
    try {
      const res = await svc.post(alert({ ticker: 'ONCE', quantity: 2, price: 10 }));
      const deps = { pool, executor: makePaperExecutor(), logger: quietLogger, tracer: trace.getTracer('test'), recordRetryMs: 0, stopping: () => false };
      const job = { signalId: res.body.signalId, attempt: 1, maxAttempts: 5 };
      const results = await Promise.all([executeSignal(deps, job), executeSignal(deps, job)]);
      assert.deepEqual(results.sort(), ['already_settled', 'executed']);
      // The queue still holds the job, as after a crash between the effect and the job's completion.
      const worker = await startWorker({ connectionString: svc.db.url, concurrency: 1, executor: makePaperExecutor(), logger: quietLogger, pollIntervalMs: 100 });
      try {
        await waitFor(async () => (await countJobs(pool, res.body.signalId)) === 0, { what: 'job to complete' });
      } finally {
        await worker.stop();
      }
      assert.equal(await count(pool, 'SELECT count(*) AS n FROM executions WHERE signal_id = $1', [res.body.signalId]), 1);
      const { rows } = await pool.query("SELECT quantity FROM positions WHERE ticker = 'ONCE'");
      assert.equal(rows[0].quantity, 2);
    } finally {
      await pool.end();
      await svc.close();
    }
  });

  it('does not execute an alert that grew older than MAX_ALERT_AGE_SECONDS while it waited for its turn', async () => {
    const svc = await startTestService({ MAX_ALERT_AGE_SECONDS: '60' }); // worker off: the job stays queued
    const pool = makePool({ connectionString: svc.db.url, max: 2, timeoutMs: 5000, logger: quietLogger });
    try {
      const res = await svc.post(alert({ ticker: 'STALE', quantity: 1, price: 10, time: new Date().toISOString() }));
      assert.equal(res.body.status, 'accepted');
      // Fresh when accepted; five minutes old when its turn comes (retries, a queue held by a dead worker's lock).
      await pool.query("UPDATE signals SET alert_time = now() - interval '5 minutes' WHERE id = $1", [res.body.signalId]);
      const deps = { pool, executor: makePaperExecutor(), logger: quietLogger, tracer: trace.getTracer('test'), maxAlertAgeSeconds: 60, recordRetryMs: 0, stopping: () => false };
      assert.equal(await executeSignal(deps, { signalId: res.body.signalId, attempt: 1, maxAttempts: 5 }), 'failed');
      const signal = (await svc.api(`/api/signals/${res.body.signalId}`)).body.signal;
      assert.equal(signal.status, 'failed');
      assert.match(signal.lastError, /not executed: the alert is 30\d s old .*MAX_ALERT_AGE_SECONDS is 60/);
      assert.equal(await count(pool, "SELECT count(*) AS n FROM positions WHERE ticker = 'STALE'", []), 0);
    } finally {
      await pool.end();
      await svc.close();
    }
  });

  it("recovers a job locked by a dead worker once its lock is older than the queue's lock timeout", async () => {
    const svc = await startTestService();
    try {
      const res = await svc.post(alert({ ticker: 'ORPHAN', quantity: 1, price: 5 }));
      // As if a worker took the job 5 hours ago and died (graphile-worker's lock timeout is 4 hours).
      await lockAsDeadWorker(svc.pool, res.body.signalId, 5);
      await svc.pool.query("UPDATE signals SET status = 'executing', attempts = 1 WHERE id = $1", [res.body.signalId]);
      const worker = await startWorker({
        connectionString: svc.db.url,
        concurrency: 1,
        executor: makePaperExecutor(),
        logger: quietLogger,
        pollIntervalMs: 100,
        resetLockedIntervalMs: { min: 50, max: 100 },
      });
      try {
        const settled = await waitFor(async () => {
          const r = await svc.api(`/api/signals/${res.body.signalId}`);
          return r.body.signal.status === 'executed' ? r.body : undefined;
        }, { what: 'orphaned job to run' });
        assert.equal(settled.signal.attempts, 2);
        assert.equal(settled.executions.length, 1);
      } finally {
        await worker.stop();
      }
    } finally {
      await svc.close();
    }
  });

  it('100 signals queued at once execute exactly once with two workers on the same database', async () => {
    const svc = await startTestService();
    const workers: RunningWorker[] = [];
    try {
      const tickers = ['AAA', 'BBB', 'CCC', 'DDD', 'EEE'];
      const answers = await Promise.all(
        Array.from({ length: 100 }, (_, i) => svc.post(alert({ ticker: tickers[i % 5], quantity: 1, price: 100 + i }))),
      );
      assert.ok(answers.every((a) => a.body.status === 'accepted'));
      for (let i = 0; i < 2; i++) {
        workers.push(await startWorker({ connectionString: svc.db.url, concurrency: 4, executor: makePaperExecutor(), logger: quietLogger, pollIntervalMs: 100 }));
      }
      await waitFor(async () => (await count(svc.pool, "SELECT count(*) AS n FROM signals WHERE status = 'executed'")) === 100, {
        what: '100 executions',
        timeoutMs: 30_000,
      });
      assert.equal(await count(svc.pool, 'SELECT count(*) AS n FROM executions'), 100);
      assert.equal(await count(svc.pool, 'SELECT count(DISTINCT signal_id) AS n FROM executions'), 100);
      assert.equal(await count(svc.pool, 'SELECT count(*) AS n FROM signals WHERE attempts <> 1'), 0);
      const { rows } = await svc.pool.query('SELECT ticker, quantity FROM positions ORDER BY ticker');
      assert.deepEqual(rows.map((r) => [r.ticker, r.quantity]), tickers.map((t) => [t, 20]));
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await svc.close();
    }
  });

  it('shutdown lets a running job finish', async () => {
    const target = await startTargetServer([{ status: 200, delayMs: 400 }]);
    const svc = await startTestService({ WORKER_ENABLED: 'true', EXECUTOR: 'forward', FORWARD_URL: target.url, FORWARD_TIMEOUT_MS: '4000' });
    const client = new pg.Client({ connectionString: svc.db.url });
    try {
      const res = await svc.post(alert({ price: 7 }));
      await target.received(1);
      await svc.stop();
      await client.connect();
      const { rows } = await client.query('SELECT status FROM signals WHERE id = $1', [res.body.signalId]);
      assert.equal(rows[0].status, 'executed');
      assert.equal(await countJobs(client), 0);
    } finally {
      await client.end();
      await target.close();
      await svc.db.drop();
    }
  });
});
