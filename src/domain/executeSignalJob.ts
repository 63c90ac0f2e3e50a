import { z } from 'zod';

/**
 * The background job that executes one signal: its graphile-worker task name (also the name of the worker's span,
 * which joins the webhook's trace) and its payload. The pipeline enqueues it (insertSignals), the worker runs it
 * (startWorker); both go through this module.
 */
export const EXECUTE_SIGNAL_TASK = 'execute_signal';

/**
 * The span of an operator's retry of a failed signal (POST /api/signals/:id/retry and the bulk form): the root of
 * a new trace, linked to the webhook's, in which the retried job's execution span runs.
 */
export const RETRY_SIGNAL_SPAN = 'retry_signal';

const payloadSchema = z.object({
  signalId: z.uuid(),
  /** W3C traceparent of the webhook, so that the worker's spans join its trace; null when there was none. */
  traceparent: z.string().nullable().optional(),
});

export type ExecuteSignalPayload = z.output<typeof payloadSchema>;

/** The payload stored with a new job. */
export function makeExecuteSignalPayload(signalId: string, traceparent: string | null): ExecuteSignalPayload {
  return { signalId, traceparent };
}

/** Reads a job's payload; throws (the job fails and is retried, then kept as failed) when it is not one of ours. */
export function parseExecuteSignalPayload(payload: unknown): ExecuteSignalPayload {
  const parsed = payloadSchema.safeParse(payload);
  if (!parsed.success) {
    throw new Error(`${EXECUTE_SIGNAL_TASK} job payload is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}
