import type { Pool } from '../db/makePool.js';
import { listFailedSignals } from './listFailedSignals.js';

const round = (n: number | null) => (n === null ? null : Math.round(n * 1000) / 1000);
const ratio = (part: number, total: number) => (total === 0 ? null : Math.round((part / total) * 10_000) / 10_000);

/**
 * What happened after the 200, for executions settled in [from, to): outcomes, automatic and operator retries,
 * the time from the alert's receipt to its fill (or forward), the signals still waiting now, and the signals that
 * failed with their reason.
 */
export async function getExecutionStats(pool: Pool, from: Date, to: Date, options: { latestFailed: number }) {
  const params = [from, to];
  const [settled, retries, waiting, failed] = await Promise.all([
    pool.query(
      `SELECT count(*)::int AS total,
              count(*) FILTER (WHERE e.outcome = 'filled')::int AS filled,
              count(*) FILTER (WHERE e.outcome = 'forwarded')::int AS forwarded,
              count(*) FILTER (WHERE e.outcome = 'failed')::int AS failed,
              COALESCE(sum(e.attempt - 1), 0)::int AS automatic_retries,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE e.outcome <> 'failed') AS p50,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) FILTER (WHERE e.outcome <> 'failed') AS p95,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) FILTER (WHERE e.outcome <> 'failed') AS p99,
              max(ms) FILTER (WHERE e.outcome <> 'failed') AS max
         FROM executions e
         JOIN signals s ON s.id = e.signal_id
        CROSS JOIN LATERAL (SELECT EXTRACT(EPOCH FROM e.completed_at - s.received_at)::float8 * 1000 AS ms) t
        WHERE e.completed_at >= $1 AND e.completed_at < $2`,
      params,
    ),
    pool.query(
      `SELECT count(*) FILTER (WHERE result = 'queued')::int AS queued, count(*) FILTER (WHERE result = 'declined')::int AS declined
         FROM signal_retries WHERE requested_at >= $1 AND requested_at < $2`,
      params,
    ),
    pool.query(
      `SELECT count(*)::int AS signals, COALESCE(EXTRACT(EPOCH FROM now() - min(received_at)), 0)::float8 AS oldest
         FROM signals WHERE status IN ('queued', 'executing')`,
    ),
    Promise.all([
      pool.query(`SELECT count(*)::int AS n FROM signals WHERE status = 'failed' AND failed_at >= $1 AND failed_at < $2`, params),
      listFailedSignals(pool, { since: from, until: to, limit: options.latestFailed }),
    ]),
  ]);
  const s = settled.rows[0];
  const w = waiting.rows[0];
  return {
    settled: s.total as number,
    byOutcome: { filled: s.filled as number, forwarded: s.forwarded as number, failed: s.failed as number },
    /** Failed executions among those settled: our side (or the broker's), never the sender's. */
    failureRate: ratio(s.failed, s.total),
    retries: {
      /** Attempts after the first, of the executions settled (backoff retries of transient errors). */
      automatic: s.automatic_retries as number,
      /** Operator retries asked for in the window (POST /api/signals/:id/retry and the bulk form), by result. */
      byOperator: retries.rows[0] as { queued: number; declined: number },
    },
    /** From the alert's receipt to its fill or forward (executions with an effect), in ms. */
    alertToFillMs: { p50: round(s.p50), p95: round(s.p95), p99: round(s.p99), max: round(s.max) },
    /** Now, not in the window: signals waiting to execute (queued or executing) and the oldest one's age. */
    waiting: { signals: w.signals as number, oldestAgeSeconds: round(w.oldest) },
    /** Signals that failed in the window and are still failed (not retried since), with the latest and their reasons. */
    failedSignals: { count: failed[0].rows[0].n as number, latest: failed[1] },
  };
}
