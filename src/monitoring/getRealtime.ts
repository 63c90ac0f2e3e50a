import type { Pool } from '../db/makePool.js';
import { getQueueStats } from './getQueueStats.js';

const round = (n: number | null) => (n === null ? null : Math.round(n * 1000) / 1000);

/**
 * The seed's getRealTimeMetrics(): the last minute from the records (written within about a flush interval),
 * plus live figures: requests in flight, the queue, the latest errors.
 */
export async function getRealtime(pool: Pool, live: { inFlight: number; sinkBufferedRecords: number | null }, now = new Date()) {
  const from = new Date(now.getTime() - 60_000);
  const [minute, errors, queue] = await Promise.all([
    pool.query(
      `SELECT count(*)::int AS total,
              count(*) FILTER (WHERE status = 'success')::int AS success,
              count(*) FILTER (WHERE status <> 'success')::int AS errors,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY processing_time_ms) AS p95,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY processing_time_ms) AS p99
         FROM webhook_requests WHERE created_at >= $1 AND created_at <= $2`,
      [from, now],
    ),
    pool.query(
      `SELECT id, created_at, status, http_status, error_code, error_message, trace_id
         FROM webhook_requests WHERE status <> 'success'
        ORDER BY created_at DESC LIMIT 10`,
    ),
    getQueueStats(pool),
  ]);
  const m = minute.rows[0];
  return {
    from: from.toISOString(),
    to: now.toISOString(),
    requestsPerMinute: m.total,
    successRate: m.total === 0 ? null : m.success / m.total,
    errorRate: m.total === 0 ? null : m.errors / m.total,
    processingTimeMs: { p95: round(m.p95), p99: round(m.p99) },
    inFlight: live.inFlight,
    queue: { depth: queue.depth, due: queue.due, running: queue.running, oldestJobAgeSeconds: round(queue.oldestAgeSeconds) },
    sinkBufferedRecords: live.sinkBufferedRecords,
    latestErrors: errors.rows.map((r) => ({
      webhookId: r.id,
      createdAt: r.created_at.toISOString(),
      status: r.status,
      httpStatus: r.http_status,
      code: r.error_code,
      message: r.error_message,
      traceId: r.trace_id,
    })),
  };
}
