import { newId } from '../domain/newId.js';
import type { Pool } from '../db/makePool.js';
import { toStorableText } from '../domain/storableText.js';
import type { ExecutorName, StoredSignalRef } from './executor.js';

/** Settles the signal as `failed` with its last error, and stores the failed execution row (once per run). */
export async function markSignalFailed(
  pool: Pool,
  input: { signal: StoredSignalRef; executor: ExecutorName; error: string; attempt: number; startedAt: Date; traceId: string | null },
): Promise<void> {
  const completedAt = new Date();
  await pool.query(
    `WITH settled AS (
       UPDATE signals SET status = 'failed', last_error = $7, failed_at = $10, updated_at = now()
        WHERE id = $2 AND status IN ('queued', 'executing')
        RETURNING id
     )
     INSERT INTO executions (id, signal_id, executor, outcome, ticker, action, error, attempt, trace_id, started_at,
                             completed_at, duration_ms, retry)
     SELECT $1, id, $3, 'failed', $4, $5, $7, $6, $8, $9, $10, $11, $12 FROM settled
     ON CONFLICT DO NOTHING`,
    [
      newId(),
      input.signal.id,
      input.executor,
      input.signal.ticker,
      input.signal.action,
      input.attempt,
      // Any executor's error: one NUL in it failed this statement, and the job ran (and sent the order) again.
      toStorableText(input.error),
      input.traceId,
      input.startedAt,
      completedAt,
      completedAt.getTime() - input.startedAt.getTime(),
      input.signal.retries,
    ],
  );
}
