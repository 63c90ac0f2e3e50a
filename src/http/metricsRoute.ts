import type { FastifyInstance } from 'fastify';
import type { Pool } from '../db/makePool.js';
import { getLastSignalTime } from '../monitoring/getLastSignalTime.js';
import { getQueueStats } from '../monitoring/getQueueStats.js';
import { readStrategyWatch } from '../monitoring/readStrategyWatch.js';
import { setStrategyGauges } from '../monitoring/setStrategyGauges.js';
import type { Metrics } from '../telemetry/makeMetrics.js';
import { getWebhookHub } from '../telemetry/webhookHub.js';

/**
 * `GET /metrics` for Prometheus, as OpenMetrics (the format with exemplars). Queue gauges and the latest
 * signal's time are read from Postgres at scrape time; a failing read is counted and leaves the previous values.
 */
export function registerMetricsRoute(app: FastifyInstance, deps: { metrics: Metrics; pool: Pool; watch?: { maxStrategies: number; lookbackMs: number } }): void {
  app.get('/metrics', async (request, reply) => {
    try {
      const [queue, lastSignal] = await Promise.all([getQueueStats(deps.pool), getLastSignalTime(deps.pool)]);
      deps.metrics.queueDepth.set(queue.depth);
      deps.metrics.queueOldestAgeSeconds.set(queue.oldestAgeSeconds);
      if (lastSignal !== undefined) deps.metrics.lastSignalTimestampSeconds.set(lastSignal);
    } catch (err) {
      deps.metrics.queueScrapeErrors.inc();
      request.log.warn({ err }, 'queue metrics unavailable for this scrape');
    }
    if (deps.watch) {
      try {
        setStrategyGauges(deps.metrics, await readStrategyWatch(deps.pool, deps.watch));
      } catch (err) {
        deps.metrics.watchErrors.inc();
        request.log.warn({ err }, 'strategy metrics unavailable for this scrape');
      }
    }
    // Every webhook answered before the scrape is counted in it (monitoring batches them, see WebhookHub).
    getWebhookHub().drain();
    return reply.header('content-type', deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
}
