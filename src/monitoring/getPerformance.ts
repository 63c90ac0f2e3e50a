import type { Pool } from '../db/makePool.js';
import { getExecutionStats } from './getExecutionStats.js';

export const WINDOWS = {
  last_hour: 3600,
  last_24_hours: 24 * 3600,
  last_7_days: 7 * 24 * 3600,
  last_30_days: 30 * 24 * 3600,
} as const;
export type WindowName = keyof typeof WINDOWS;

const round = (n: number | null) => (n === null ? null : Math.round(n * 1000) / 1000);
const ratio = (part: number, total: number) => (total === 0 ? null : Math.round((part / total) * 10_000) / 10_000);

/**
 * The seed's getPerformanceMetrics(window), computed in SQL over the monitoring records of the window:
 * request counts by status; successRate, errorRate (our failures only: what pages the operator) and rejectionRate
 * (the senders' mistakes); end-to-end percentiles, per-stage timings, rejections by code; and what happened after
 * the 200: the executions section.
 */
export async function getPerformance(pool: Pool, window: WindowName, now = new Date()) {
  const to = now;
  const from = new Date(now.getTime() - WINDOWS[window] * 1000);
  const params = [from, to];
  const [totals, stages, rejections, executions] = await Promise.all([
    pool.query(
      `SELECT count(*)::int AS total,
              count(*) FILTER (WHERE status = 'success')::int AS success,
              count(*) FILTER (WHERE status = 'failed')::int AS failed,
              count(*) FILTER (WHERE status = 'rejected')::int AS rejected,
              avg(processing_time_ms) AS avg,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY processing_time_ms) AS p50,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY processing_time_ms) AS p95,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY processing_time_ms) AS p99,
              max(processing_time_ms) AS max
         FROM webhook_requests
        WHERE created_at >= $1 AND created_at < $2`,
      params,
    ),
    pool.query(
      `SELECT stage, count(*)::int AS count,
              count(*) FILTER (WHERE status = 'failed')::int AS failed,
              avg(duration_ms) AS avg,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95
         FROM processing_stages
        WHERE created_at >= $1 AND created_at < $2
        GROUP BY stage`,
      params,
    ),
    pool.query(
      `SELECT error_code, count(*)::int AS count
         FROM webhook_requests
        WHERE created_at >= $1 AND created_at < $2 AND status = 'rejected'
        GROUP BY error_code`,
      params,
    ),
    getExecutionStats(pool, from, to, { latestFailed: 20 }),
  ]);
  const t = totals.rows[0];
  return {
    window,
    from: from.toISOString(),
    to: to.toISOString(),
    requests: { total: t.total, success: t.success, failed: t.failed, rejected: t.rejected },
    successRate: ratio(t.success, t.total),
    errorRate: ratio(t.failed, t.total),
    rejectionRate: ratio(t.rejected, t.total),
    processingTimeMs: { avg: round(t.avg), p50: round(t.p50), p95: round(t.p95), p99: round(t.p99), max: round(t.max) },
    stages: Object.fromEntries(
      stages.rows.map((s) => [s.stage, { count: s.count, failed: s.failed, avgMs: round(s.avg), p95Ms: round(s.p95) }]),
    ),
    rejectionsByCode: Object.fromEntries(rejections.rows.map((r) => [r.error_code, r.count])),
    executions,
  };
}
