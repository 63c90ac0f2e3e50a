import { SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { EXECUTE_SIGNAL_TASK } from '../domain/executeSignalJob.js';
import { ATTR } from '../telemetry/attributes.js';
import { contextFromTraceparent } from '../telemetry/webhookTrace.js';
import type { Pool } from '../db/makePool.js';
import { toError } from '../domain/errors.js';
import { type Executor, PermanentExecutionError } from './executor.js';
import { alertAgeOverLimit } from '../domain/alertAgeOverLimit.js';
import { deferBehindEarlierSignal } from './deferBehindEarlierSignal.js';
import { loadSignal } from './loadSignal.js';
import { markSignalExecuting } from './markSignalExecuting.js';
import { markSignalExecuted } from './markSignalExecuted.js';
import { markSignalFailed } from './markSignalFailed.js';
import { markSignalForRetry } from './markSignalForRetry.js';
import { recordSentEffect } from './recordSentEffect.js';
import type { SentEffect } from './sentEffect.js';

export interface ExecuteDeps {
  pool: Pool;
  executor: Executor;
  logger: Logger;
  tracer: Tracer;
  /**
   * MAX_ALERT_AGE_SECONDS (0: off): an alert older than this when its turn comes is not executed. Accepted fresh,
   * it can grow old waiting: retries over hours, a queue held by a job a dead worker locked (4 hours).
   */
  maxAlertAgeSeconds?: number;
  /**
   * EXECUTION_RECORD_RETRY_MS: how long an attempt keeps trying to record an order that went out (Postgres away),
   * holding its job, before it keeps the order with the signal for the next attempt (see recordSentEffect).
   */
  recordRetryMs: number;
  /** True once the worker is stopping: recording an order that went out is not waited for any more. */
  stopping: () => boolean;
}

export type ExecuteResult = 'executed' | 'already_settled' | 'failed' | 'missing' | 'deferred' | 'unrecorded';

/**
 * Runs one attempt of a signal's job. Idempotent: a settled signal is left alone, and the execution record is
 * unique per signal. A transient error is rethrown (the queue retries with exponential backoff) until the
 * last attempt, which fails the signal; a permanent error fails it at once. An order that went out is never sent
 * again nor failed because recording it failed: see recordSentEffect.
 */
export async function executeSignal(
  deps: ExecuteDeps,
  job: { signalId: string; attempt: number; maxAttempts: number; traceparent?: string | null },
): Promise<ExecuteResult> {
  // A child of the webhook's root span: Jaeger shows the alert from arrival to fill in one trace.
  const span = deps.tracer.startSpan(
    EXECUTE_SIGNAL_TASK,
    {
      kind: SpanKind.CONSUMER,
      attributes: { [ATTR.signalId]: job.signalId, [ATTR.executor]: deps.executor.name, [ATTR.attempt]: job.attempt },
    },
    contextFromTraceparent(job.traceparent),
  );
  try {
    // The execution row names the trace its attempt ran in: the webhook's, or an operator retry's (a new trace).
    const result = await runAttempt(deps, { ...job, traceparent: job.traceparent ?? null, traceId: traceIdOf(job.traceparent) });
    span.setAttribute(ATTR.executionOutcome, result.outcome);
    if (result.error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: result.error });
    return result.result;
  } catch (err) {
    span.setAttribute(ATTR.executionOutcome, 'retry');
    span.recordException(toError(err));
    span.setStatus({ code: SpanStatusCode.ERROR, message: toError(err).message });
    throw err;
  } finally {
    span.end();
  }
}

/** The trace id of a W3C traceparent (version-traceid-spanid-flags), or null. */
function traceIdOf(traceparent: string | null | undefined): string | null {
  return /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent ?? '')?.[1] ?? null;
}

async function runAttempt(
  deps: ExecuteDeps,
  job: { signalId: string; attempt: number; maxAttempts: number; traceparent: string | null; traceId: string | null },
): Promise<{ result: ExecuteResult; outcome: string; error?: string }> {
  const log = deps.logger.child({ signalId: job.signalId, attempt: job.attempt });
  const signal = await loadSignal(deps.pool, job.signalId);
  if (!signal) {
    log.error('job for a signal that does not exist; dropping it');
    return { result: 'missing', outcome: 'missing' };
  }
  // An order of this run sent by an earlier attempt (on any worker) and not recorded: it is recorded now, never
  // sent again, and it waits for no earlier signal (the order is out already).
  const sent = signal.unrecordedEffect?.run === signal.retries ? signal.unrecordedEffect : null;
  if (sent === null && signal.status === 'queued' && (await deferBehindEarlierSignal(deps.pool, job))) {
    log.info({ ticker: signal.ticker }, 'an earlier signal of this ticker has still to run; put back behind it');
    return { result: 'deferred', outcome: 'deferred' };
  }
  if (!(await markSignalExecuting(deps.pool, signal.id, job.attempt))) {
    log.info({ status: signal.status }, 'signal already settled; nothing to do');
    return { result: 'already_settled', outcome: 'already_settled' };
  }
  if (sent !== null) {
    log.warn({ outcome: sent.outcome, sentAttempt: sent.attempt }, 'recording the order an earlier attempt sent (not sending it again)');
    return recordSentEffect(deps, { ...job, signal, log }, sent);
  }
  const startedAt = new Date();
  const base = { signal, executor: deps.executor.name, attempt: job.attempt, startedAt, traceId: job.traceId ?? signal.traceId };
  let effectSent: SentEffect;
  try {
    const ageSeconds = alertAgeOverLimit(signal, deps.maxAlertAgeSeconds ?? 0, startedAt);
    if (ageSeconds !== undefined) {
      throw new PermanentExecutionError(
        `not executed: the alert is ${Math.round(ageSeconds)} s old at its turn to execute, and MAX_ALERT_AGE_SECONDS is ${deps.maxAlertAgeSeconds} (it waited for retries or a held queue)`,
      );
    }
    const effect = await deps.executor.execute(signal);
    if (effect.commit) {
      // An effect in our own database (the paper book): recording it is the execution, in one transaction, and
      // its failure (a fill that cannot be made, the database away) is the execution's, retried or failed below.
      const recorded = await markSignalExecuted(deps.pool, { ...base, effect });
      log.info({ executor: deps.executor.name, outcome: effect.outcome, recorded }, 'signal executed');
      return recorded ? { result: 'executed', outcome: effect.outcome } : { result: 'already_settled', outcome: 'already_settled' };
    }
    effectSent = {
      executor: deps.executor.name,
      outcome: effect.outcome,
      response: effect.response,
      quantity: effect.quantity ?? null,
      price: effect.price ?? null,
      attempt: job.attempt,
      startedAt: startedAt.toISOString(),
      completedAt: new Date().toISOString(),
      traceId: base.traceId,
      run: signal.retries,
    };
  } catch (thrown) {
    const err = toError(thrown);
    const permanent = err instanceof PermanentExecutionError;
    if (permanent || job.attempt >= job.maxAttempts) {
      await markSignalFailed(deps.pool, { ...base, error: err.message });
      log.warn({ err, permanent }, 'signal failed');
      return { result: 'failed', outcome: 'failed', error: err.message };
    }
    await markSignalForRetry(deps.pool, signal.id, err.message);
    log.warn({ err, nextAttempt: job.attempt + 1, maxAttempts: job.maxAttempts }, 'execution failed; will retry');
    throw err;
  }
  return recordSentEffect(deps, { ...job, signal, log }, effectSent);
}
