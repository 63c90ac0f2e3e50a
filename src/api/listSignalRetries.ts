import type { Pool } from '../db/makePool.js';

/** A signal's retries (signal_retries rows), oldest first, as the API shows them. */
export async function listSignalRetries(pool: Pool, signalId: string) {
  const { rows } = await pool.query(
    `SELECT id, retry, requested_at, result, decline_reason, previous_error, client_address, trace_id
       FROM signal_retries WHERE signal_id = $1 ORDER BY retry`,
    [signalId],
  );
  return rows.map((r) => ({
    id: r.id as string,
    retry: r.retry as number,
    requestedAt: (r.requested_at as Date).toISOString(),
    result: r.result as string,
    declineReason: r.decline_reason as string | null,
    previousError: r.previous_error as string | null,
    clientAddress: r.client_address as string | null,
    traceId: r.trace_id as string | null,
  }));
}
