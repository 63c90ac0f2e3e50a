import { newId } from '../domain/newId.js';
import type { Pool } from '../db/makePool.js';
import type { RetryRecordInput } from './requeueFailedSignal.js';

/**
 * An operator's retry that the policy refuses now (an alert too old to trade): the failed signal becomes
 * `declined` with the reason, and the retry is recorded; nothing runs. Returns the run number, or undefined when
 * the signal was not failed (any more).
 */
export async function declineFailedSignal(pool: Pool, input: RetryRecordInput & { reason: string }): Promise<number | undefined> {
  const { rows } = await pool.query<{ retry: number }>(
    `WITH settled AS (
       UPDATE signals SET status = 'declined', decline_reason = $5, retries = retries + 1, updated_at = now()
        WHERE id = $1 AND status = 'failed'
       RETURNING id, retries, last_error
     )
     INSERT INTO signal_retries (id, signal_id, retry, requested_at, result, decline_reason, previous_error, client_address, trace_id)
     SELECT $2, id, retries, now(), 'declined', $5, last_error, $3, $4 FROM settled
     RETURNING retry`,
    [input.signalId, newId(), input.clientAddress, input.traceId, input.reason],
  );
  return rows[0]?.retry;
}
