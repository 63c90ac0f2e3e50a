import assert from 'node:assert/strict';
import { rescheduleJob } from './support/jobQueue.js';
import { sampleValue } from './support/metricsText.js';
import { alert, startTestService } from './support/startTestService.js';
import { waitFor } from './support/waitFor.js';

const SIGNALS = 20;

describe('deferBehindEarlierSignal: a symbol\'s signals run in their order, whatever the order of their jobs', function () {
  this.timeout(60_000);

  it('jobs due in the reverse order of their signals (two processes\' batches): executed in signal order, each put back at most once', async () => {
    const writer = await startTestService(); // worker off: the jobs wait
    try {
      const ids: string[] = [];
      for (let i = 0; i < SIGNALS; i += 1) {
        const res = await writer.post(alert({ ticker: 'ORDERED', action: 'buy', quantity: '1', price: String(100 + i) }));
        assert.equal(res.body.status, 'accepted', JSON.stringify(res.body));
        ids.push(res.body.signalId);
      }
      // The latest signal's job is due first, the first signal's last: the worker meets them back to front.
      for (let i = 0; i < SIGNALS; i += 1) await rescheduleJob(writer.pool, ids[i]!, 60 + i);

      const worker = await startTestService({ WORKER_ENABLED: 'true', WORKER_POLL_INTERVAL_MS: '100' }, { db: writer.db });
      try {
        await waitFor(async () => {
          const { rows } = await writer.pool.query("SELECT count(*)::int AS n FROM signals WHERE ticker = 'ORDERED' AND status = 'executed'");
          return rows[0].n === SIGNALS;
        }, { timeoutMs: 30_000, what: `${SIGNALS} signals executed` });
        const { rows } = await writer.pool.query<{ signal_id: string }>(
          "SELECT signal_id FROM executions WHERE ticker = 'ORDERED' ORDER BY completed_at, id",
        );
        assert.deepEqual(rows.map((r) => r.signal_id), ids, 'executed in the order the alerts arrived');
        const text = await (await fetch(`${worker.opsUrl}/metrics`)).text();
        const putBack = sampleValue(text, 'signal_executions_total', { executor: 'paper', outcome: 'deferred' });
        // Each of the 19 later signals is met once before the first, and put back behind it and the others before it.
        // Put back at the same run time as the job it waited for, a signal was picked again at random among equals.
        assert.ok(putBack <= SIGNALS - 1, `put back ${putBack} times for ${SIGNALS} signals`);
        assert.equal(sampleValue(text, 'signal_executions_total', { executor: 'paper', outcome: 'filled' }), SIGNALS);
      } finally {
        await worker.close();
      }
    } finally {
      await writer.close();
    }
  });
});
