import { newId } from '../domain/newId.js';
import type { Pool } from '../db/makePool.js';
import type { ExecutorName } from './executor.js';

/** How an operator settles a stuck signal after checking the target: its order went through, or it did not. */
export type ManualOutcome = 'executed' | 'failed';

export interface SettledSignal {
  ticker: string;
  action: string;
  /** The run the settlement belongs to (0 = the webhook's). */
  retry: number;
}

/**
 * The stuck rule, the health check's (countStuckSignals): unchanged for `afterSeconds` while `executing`, or
 * `queued` with no job left to run it. It is in the statement's WHERE, so a worker that moves the signal
 * meanwhile (its attempt ending after all) wins and nothing is settled.
 */
const STUCK = `s.status IN ('queued', 'executing')
   AND s.updated_at < now() - make_interval(secs => $2)
   AND (s.status = 'executing'
        OR NOT EXISTS (SELECT 1 FROM graphile_worker.jobs j WHERE j.key = s.id::text AND j.attempts < j.max_attempts))`;

/**
 * An operator's settlement of a stuck signal, as ONE statement: the signal becomes `executed` (the order is at the
 * target: a `forwarded` execution row whose response says who settled it and why, with the order an attempt sent
 * and could not record, when there is one) or `failed` (a failed row with the reason; it can then be retried, and
 * an unrecorded order of this run is dropped: the operator found it is not at the target). A job of the signal that runs later finds it settled and does nothing.
 * Returns undefined when the signal is not stuck (any more).
 */
export async function settleStuckSignal(
  pool: Pool,
  input: {
    signalId: string;
    afterSeconds: number;
    outcome: ManualOutcome;
    executor: ExecutorName;
    /** Why: the operator's words (what the target showed). */
    note: string;
    clientAddress: string | null;
    traceId: string | null;
  },
): Promise<SettledSignal | undefined> {
  const executed = input.outcome === 'executed';
  const response = executed ? JSON.stringify({ settledByHand: true, note: input.note, clientAddress: input.clientAddress }) : null;
  const error = executed ? null : `settled by hand as failed${input.clientAddress ? ` (from ${input.clientAddress})` : ''}: ${input.note}`;
  const { rows } = await pool.query<SettledSignal>(
    `WITH settled AS (
       UPDATE signals s
          SET status = $3, updated_at = now(),
              ${executed ? 'executed_at = now(), last_error = NULL' : 'failed_at = now(), last_error = $5, unrecorded_effect = NULL'}
        WHERE s.id = $1 AND ${STUCK}
       RETURNING s.id, s.ticker, s.action, s.quantity, s.price, s.attempts, s.retries, s.unrecorded_effect,
                 COALESCE(s.executing_at, s.updated_at) AS started_at
     ), recorded AS (
       INSERT INTO executions (id, signal_id, executor, outcome, ticker, action, quantity, price, response, error, attempt,
                               trace_id, started_at, completed_at, duration_ms, retry)
       SELECT $4, id, $9, $6, ticker, action, ${executed ? 'quantity, price' : 'NULL, NULL'},
              $7::jsonb || jsonb_strip_nulls(jsonb_build_object('unrecordedOrder', unrecorded_effect)),
              $5::text, attempts, $8, started_at, now(),
              GREATEST(0, extract(epoch FROM now() - started_at) * 1000), retries
         FROM settled
       ON CONFLICT DO NOTHING
     )
     SELECT ticker, action, retries AS retry FROM settled`,
    [input.signalId, input.afterSeconds, input.outcome, newId(), error, executed ? 'forwarded' : 'failed', response, input.traceId, input.executor],
  );
  return rows[0];
}
