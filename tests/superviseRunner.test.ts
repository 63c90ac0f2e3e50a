import assert from 'node:assert/strict';
import { makePaperExecutor } from '../src/execution/paperExecutor.js';
import { startWorker } from '../src/execution/startWorker.js';
import { countJobs, failNextJobCompletions } from './support/jobQueue.js';
import { sampleValue } from './support/metricsText.js';
import { alert, startTestService } from './support/startTestService.js';
import { quietLogger } from './support/testDatabase.js';
import { waitFor } from './support/waitFor.js';

describe('superviseRunner: the worker starts its job runner again when it stops on its own', function () {
  this.timeout(60_000);

  it('a failed job completion (which stops graphile-worker\'s pool) is followed by a new runner: the job runs again, executed once, and the next signals execute', async () => {
    const svc = await startTestService(); // worker off: the jobs wait for the worker below
    try {
      const first = await svc.post(alert({ ticker: 'SUPERVISED', action: 'buy', quantity: '1', price: '10' }));
      assert.equal(first.body.status, 'accepted');
      await failNextJobCompletions(svc.pool, 1);
      const stops: Array<Error | undefined> = [];
      const worker = await startWorker({
        connectionString: svc.db.url,
        concurrency: 2,
        executor: makePaperExecutor(),
        logger: quietLogger,
        pollIntervalMs: 100,
        restartDelayMs: { min: 50, max: 200 },
        onUnexpectedStop: (err) => stops.push(err),
      });
      try {
        // The job ran, its signal executed, and its completion failed: graphile-worker stopped its pool.
        await waitFor(async () => stops.length === 1, { what: 'the runner to stop on the failed completion' });
        assert.match(String(stops[0]?.message), /injected by the test/, 'the stop names the failed statement');
        // A new runner unlocks the job the old one held and runs it again: its signal is settled already.
        await waitFor(async () => worker.alive() && (await countJobs(svc.pool, first.body.signalId)) === 0, {
          what: 'a new runner to finish the job the stopped one held',
        });
        assert.equal(worker.restarts(), 1);

        const second = await svc.post(alert({ ticker: 'SUPERVISED', action: 'buy', quantity: '1', price: '11' }));
        await waitFor(async () => (await svc.api(`/api/signals/${second.body.signalId}`)).body.signal.status === 'executed', {
          what: 'a signal after the restart to execute',
        });
        const { rows } = await svc.pool.query("SELECT count(*)::int AS n FROM executions WHERE ticker = 'SUPERVISED'");
        assert.equal(rows[0].n, 2, 'one execution per signal: the job run again did not execute its signal twice');
        const position = await svc.pool.query("SELECT quantity FROM positions WHERE ticker = 'SUPERVISED'");
        assert.equal(position.rows[0].quantity, 2);
      } finally {
        await worker.stop();
      }
      assert.equal(worker.alive(), false);
    } finally {
      await svc.close();
    }
  });

  it('stop() while a restart waits: no runner is started afterwards, stop resolves, and the dead pool\'s job is unlocked for the next process', async () => {
    const svc = await startTestService();
    try {
      const res = await svc.post(alert({ ticker: 'STOPPED', action: 'buy', quantity: '1', price: '10' }));
      await failNextJobCompletions(svc.pool, 1);
      let stops = 0;
      const worker = await startWorker({
        connectionString: svc.db.url,
        concurrency: 1,
        executor: makePaperExecutor(),
        logger: quietLogger,
        pollIntervalMs: 100,
        restartDelayMs: { min: 60_000, max: 60_000 },
        onUnexpectedStop: () => (stops += 1),
      });
      await waitFor(async () => stops === 1, { what: 'the runner to stop on the failed completion' });
      assert.equal(worker.alive(), false);
      const locked = await svc.pool.query('SELECT locked_at FROM graphile_worker.jobs WHERE key = $1', [res.body.signalId]);
      assert.ok(locked.rows[0]?.locked_at, 'the stopped pool still holds the job');
      await worker.stop(); // does not wait out the minute before the restart
      assert.equal(worker.restarts(), 0);
      // Left locked, the job and its ticker's queue would wait 4 hours for graphile-worker's lock timeout.
      const job = await svc.pool.query('SELECT locked_at, locked_by FROM graphile_worker.jobs WHERE key = $1', [res.body.signalId]);
      assert.deepEqual(job.rows[0], { locked_at: null, locked_by: null });
      const queue = await svc.pool.query("SELECT locked_at FROM graphile_worker._private_job_queues WHERE queue_name = 'symbol:STOPPED'");
      assert.equal(queue.rows[0]?.locked_at ?? null, null, "the ticker's queue is free");
    } finally {
      await svc.close();
    }
  });

  it('in the service: the restart is counted in signal_worker_restarts_total and named in the health check', async () => {
    const svc = await startTestService({ WORKER_ENABLED: 'true', WORKER_POLL_INTERVAL_MS: '100' });
    try {
      await failNextJobCompletions(svc.pool, 1);
      const res = await svc.post(alert({ ticker: 'COUNTED', action: 'buy', quantity: '1', price: '10' }));
      // The default restart delay (1 s) applies.
      await waitFor(async () => (await svc.api(`/api/signals/${res.body.signalId}`)).body.signal.status === 'executed' && (await countJobs(svc.pool, res.body.signalId)) === 0, {
        what: 'the job to be finished by the restarted runner',
      });
      const text = await (await fetch(`${svc.opsUrl}/metrics`)).text();
      assert.equal(sampleValue(text, 'signal_worker_restarts_total'), 1);
      const health = await svc.api('/api/monitoring/health');
      assert.equal(health.body.checks.worker.status, 'healthy');
      assert.match(health.body.checks.worker.detail, /started again 1 time/);
    } finally {
      await svc.close();
    }
  });
});
