import { newId } from '../domain/newId.js';
import type { Pool } from '../db/makePool.js';
import { EXECUTE_SIGNAL_TASK, makeExecuteSignalPayload } from '../domain/executeSignalJob.js';

export interface RetryRecordInput {
  signalId: string;
  clientAddress: string | null;
  traceId: string | null;
}

/**
 * An operator's retry of a failed signal, as ONE statement: the signal goes from `failed` back to `queued` as a new
 * run (retries + 1, attempts from 0), the retry is recorded in signal_retries, and a new job is added to the
 * signal's symbol queue with the retry's traceparent. Only a signal that is `failed` at that moment moves, so two
 * operators retrying at once start one run, and a signal with an effect can never get a second (the unique index
 * executions_one_effect). Returns the run number, or undefined when the signal was not failed (any more).
 */
export async function requeueFailedSignal(
  pool: Pool,
  input: RetryRecordInput & { traceparent: string | null; maxAttempts: number },
): Promise<number | undefined> {
  const { rows } = await pool.query<{ retries: number; jobs: string }>(
    `WITH settled AS (
       UPDATE signals SET status = 'queued', retries = retries + 1, attempts = 0, updated_at = now()
        WHERE id = $1 AND status = 'failed'
       RETURNING id, ticker, retries, last_error
     ), recorded AS (
       INSERT INTO signal_retries (id, signal_id, retry, requested_at, result, previous_error, client_address, trace_id)
       SELECT $2, id, retries, now(), 'queued', last_error, $3, $4 FROM settled
     ), job AS (
       SELECT graphile_worker.add_job($5::text, $6::json, queue_name := 'symbol:' || ticker, max_attempts := $7,
                                      job_key := id::text)
         FROM settled
     )
     SELECT settled.retries, (SELECT count(*) FROM job) AS jobs FROM settled`,
    [
      input.signalId,
      newId(),
      input.clientAddress,
      input.traceId,
      EXECUTE_SIGNAL_TASK,
      JSON.stringify(makeExecuteSignalPayload(input.signalId, input.traceparent)),
      input.maxAttempts,
    ],
  );
  return rows[0]?.retries;
}
