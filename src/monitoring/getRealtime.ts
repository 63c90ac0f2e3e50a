import type { Pool } from '../db/makePool.js';
import { getExecutionStats } from './getExecutionStats.js';
import { getQueueStats } from './getQueueStats.js';
import { listFailedSignals } from './listFailedSignals.js';

const round = (n: number | null) => (n === null ? null : Math.round(n * 1000) / 1000);

/**
 * The 10 latest webhooks that did not succeed, newest first: the newest 10 of each unsuccessful status (a backward
 * scan of the partial index on (status, created_at) each) merged. As `status <> 'success' ORDER BY created_at`
 * it read and sorted every unsuccessful record kept (up to RETENTION_DAYS of them, and a stranger without the
 * secret can add 600 rejected ones a minute a process) at every call of the realtime view.
 */
export const LATEST_ERRORS_SQL = `SELECT * FROM (
  (SELECT id, created_at, status, http_status, error_code, error_message, trace_id
     FROM webhook_requests WHERE status = 'failed' ORDER BY created_at DESC LIMIT 10)
  UNION ALL
  (SELECT id, created_at, status, http_status, error_code, error_message, trace_id
     FROM webhook_requests WHERE status = 'rejected' ORDER BY created_at DESC LIMIT 10)
) latest ORDER BY created_at DESC LIMIT 10`;

/**
 * The seed's getRealTimeMetrics(): the last minute from the records (written within about a flush interval),
 * plus live figures: requests in flight, the queue, the last minute's executions, the latest errors. The latest
 * errors are webhooks refused or failed (`source: webhook`) and signals whose execution failed after their 200
 * (`source: execution`), newest first.
 */
export async function getRealtime(pool: Pool, live: { inFlight: number; sinkBufferedRecords: number | null }, now = new Date()) {
  const from = new Date(now.getTime() - 60_000);
  const [minute, errors, queue, executions, failedSignals] = await Promise.all([
    pool.query(
      `SELECT count(*)::int AS total,
              count(*) FILTER (WHERE status = 'success')::int AS success,
              count(*) FILTER (WHERE status = 'failed')::int AS failed,
              count(*) FILTER (WHERE status = 'rejected')::int AS rejected,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY processing_time_ms) AS p95,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY processing_time_ms) AS p99
         FROM webhook_requests WHERE created_at >= $1 AND created_at <= $2`,
      [from, now],
    ),
    pool.query(LATEST_ERRORS_SQL),
    getQueueStats(pool),
    getExecutionStats(pool, from, now, { latestFailed: 0 }),
    listFailedSignals(pool, { limit: 10 }),
  ]);
  const m = minute.rows[0];
  return {
    from: from.toISOString(),
    to: now.toISOString(),
    requestsPerMinute: m.total,
    successRate: m.total === 0 ? null : m.success / m.total,
    errorRate: m.total === 0 ? null : m.failed / m.total,
    rejectionRate: m.total === 0 ? null : m.rejected / m.total,
    processingTimeMs: { p95: round(m.p95), p99: round(m.p99) },
    inFlight: live.inFlight,
    queue: { depth: queue.depth, due: queue.due, running: queue.running, oldestJobAgeSeconds: round(queue.oldestAgeSeconds) },
    sinkBufferedRecords: live.sinkBufferedRecords,
    executions: {
      settled: executions.settled,
      byOutcome: executions.byOutcome,
      failureRate: executions.failureRate,
      alertToFillMs: executions.alertToFillMs,
      waiting: executions.waiting,
    },
    latestErrors: [
      ...errors.rows.map((r) => ({
        source: 'webhook' as const,
        webhookId: r.id as string,
        signalId: null as string | null,
        createdAt: r.created_at.toISOString() as string,
        status: r.status as string,
        httpStatus: r.http_status as number | null,
        code: r.error_code as string | null,
        message: r.error_message as string | null,
        traceId: r.trace_id as string | null,
      })),
      ...failedSignals.map((f) => ({
        source: 'execution' as const,
        webhookId: f.webhookId,
        signalId: f.signalId,
        createdAt: f.failedAt,
        status: 'failed',
        httpStatus: null,
        code: null,
        message: f.error,
        traceId: f.traceId,
      })),
    ]
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .slice(0, 10),
  };
}
