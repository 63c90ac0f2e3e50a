import type { ExecutionEffect, ExecutorName } from './executor.js';

/**
 * An execution with an effect outside our database (an order at the target), from the moment it happened: what
 * recording it needs, kept until it is recorded (in `signals.unrecorded_effect` when recording fails), so that no
 * later attempt sends the order again. Plain JSON.
 */
export interface SentEffect {
  /** The executor that sent it (another attempt may run where EXECUTOR says otherwise). */
  executor: ExecutorName;
  outcome: ExecutionEffect['outcome'];
  response?: unknown;
  quantity: number | null;
  price: number | null;
  /** The attempt that sent it, when it began and when the target answered (ISO), in which trace, for which run of the signal (its `retries`). */
  attempt: number;
  startedAt: string;
  completedAt: string;
  traceId: string | null;
  run: number;
}

/** The effect of a sent order as its execution row needs it. */
export function effectOf(sent: SentEffect): ExecutionEffect {
  return { outcome: sent.outcome, response: sent.response, quantity: sent.quantity, price: sent.price };
}
