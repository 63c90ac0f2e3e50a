import assert from 'node:assert/strict';
import { removeJob } from './support/jobQueue.js';
import { sampleValue, scrape } from './support/metricsText.js';
import { alert, startTestService } from './support/startTestService.js';
import { waitFor } from './support/waitFor.js';

describe('signals_stuck: the signal watch counts stuck signals for Prometheus', function () {
  this.timeout(30_000);

  it('a signal left without a job shows on /metrics once stuck, and leaves it once settled by hand', async () => {
    // No worker: the signal's job waits, so it is queued but not stuck.
    const svc = await startTestService({ SIGNAL_WATCH_INTERVAL_MS: '1000', HEALTH_QUEUE_MAX_AGE_SECONDS: '60' });
    try {
      const id = (await svc.post(alert({ price: 130 }))).body.signalId as string;
      await removeJob(svc.pool, id);

      // Unchanged for 5 minutes with no job: stuck, at the watch's next run.
      await svc.pool.query(`UPDATE signals SET updated_at = now() - interval '5 minutes' WHERE id = $1`, [id]);
      await waitFor(async () => sampleValue(await scrape(svc.opsUrl), 'signals_stuck') === 1, { what: 'signals_stuck 1' });

      const settled = await svc.api(`/api/signals/${id}/settle?outcome=failed&note=never+sent`, { method: 'POST' });
      assert.equal(settled.status, 200, JSON.stringify(settled.body));
      await waitFor(async () => /^signals_stuck 0$/m.test(await scrape(svc.opsUrl)), { what: 'signals_stuck back to 0' });
    } finally {
      await svc.close();
    }
  });
});
