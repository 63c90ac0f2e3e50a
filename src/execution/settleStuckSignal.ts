import { newId } from '../domain/newId.js';
import type { Pool } from '../db/makePool.js';
import type { ExecutorName } from './executor.js';
import { stuckSignalCondition } from './stuckSignalCondition.js';

/** How an operator settles a stuck signal after checking the target: its order went through, or it did not. */
export type ManualOutcome = 'executed' | 'failed';

export interface SettledSignal {
  ticker: string;
  action: string;
  /** The order an attempt sent and could not record (SentEffect), now kept in the execution row; or null. */
  unrecordedOrder: unknown;
}

/**
 * An operator's settlement of a stuck signal (stuckSignalCondition, in the statement's WHERE: a worker that moves
 * the signal meanwhile wins, and nothing is settled), as ONE statement. The signal becomes `executed` (the order is
 * at the target: a `forwarded` execution row) or `failed` (a failed row; it can then be retried). Either row's
 * `response` says who settled it and why, with the order an attempt sent and could not record, when there was one
 * (the signal's `unrecorded_effect`, cleared: a retry of a signal settled as failed sends the order again, as the
 * operator decided). A job of the signal that runs later finds it settled and does nothing.
 * Returns undefined when the signal is not stuck (any more).
 */
export async function settleStuckSignal(
  pool: Pool,
  input: {
    signalId: string;
    afterSeconds: number;
    liveAttemptSeconds: number;
    outcome: ManualOutcome;
    executor: ExecutorName;
    /** Why: the operator's words (what the target showed). */
    note: string;
    clientAddress: string | null;
    traceId: string | null;
  },
): Promise<SettledSignal | undefined> {
  const executed = input.outcome === 'executed';
  const settledBy = JSON.stringify({ settledByHand: true, note: input.note, clientAddress: input.clientAddress });
  const error = executed ? null : `settled by hand as failed${input.clientAddress ? ` (from ${input.clientAddress})` : ''}: ${input.note}`;
  const { rows } = await pool.query<SettledSignal>(
    `WITH before AS (
       SELECT id, unrecorded_effect, COALESCE(executing_at, updated_at) AS started_at FROM signals WHERE id = $1 FOR UPDATE
     ), settled AS (
       UPDATE signals s
          SET status = $4, updated_at = now(), unrecorded_effect = NULL,
              ${executed ? 'executed_at = now(), last_error = NULL' : 'failed_at = now(), last_error = $6'}
         FROM before
        WHERE s.id = before.id AND ${stuckSignalCondition('$2', '$3')}
       RETURNING s.id, s.ticker, s.action, s.quantity, s.price, s.attempts, s.retries, before.unrecorded_effect AS kept,
                 before.started_at
     ), recorded AS (
       INSERT INTO executions (id, signal_id, executor, outcome, ticker, action, quantity, price, response, error, attempt,
                               trace_id, started_at, completed_at, duration_ms, retry)
       SELECT $5, id, $10, $7, ticker, action, ${executed ? 'quantity, price' : 'NULL, NULL'},
              CASE WHEN kept IS NULL THEN $8::jsonb ELSE $8::jsonb || jsonb_build_object('unrecordedOrder', kept) END,
              $6::text, attempts, $9, started_at, now(), GREATEST(0, extract(epoch FROM now() - started_at) * 1000), retries
         FROM settled
     )
     SELECT ticker, action, kept AS "unrecordedOrder" FROM settled`,
    [
      input.signalId,
      input.afterSeconds,
      input.liveAttemptSeconds,
      input.outcome,
      newId(),
      error,
      executed ? 'forwarded' : 'failed',
      settledBy,
      input.traceId,
      input.executor,
    ],
  );
  return rows[0];
}
