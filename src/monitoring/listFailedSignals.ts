import type { Pool } from '../db/makePool.js';

/**
 * Signals whose execution failed (status `failed`: a permanent error, or every attempt used), newest failure
 * first, with the reason: what a trader lost after the webhook was answered 200. A signal retried since then is
 * no longer failed, so it leaves this list.
 */
export async function listFailedSignals(pool: Pool, f: { since?: Date; until?: Date; limit: number }) {
  const { rows } = await pool.query(
    `SELECT id, webhook_id, ticker, action, failed_at, attempts, retries, last_error, trace_id
       FROM signals
      WHERE status = 'failed'
        AND ($1::timestamptz IS NULL OR failed_at >= $1)
        AND ($2::timestamptz IS NULL OR failed_at < $2)
      ORDER BY failed_at DESC
      LIMIT $3`,
    [f.since ?? null, f.until ?? null, f.limit],
  );
  return rows.map((r) => ({
    signalId: r.id as string,
    webhookId: r.webhook_id as string,
    ticker: r.ticker as string,
    action: r.action as string,
    failedAt: (r.failed_at as Date).toISOString(),
    attempts: r.attempts as number,
    retries: r.retries as number,
    error: r.last_error as string | null,
    traceId: r.trace_id as string | null,
  }));
}

export type FailedSignal = Awaited<ReturnType<typeof listFailedSignals>>[number];
