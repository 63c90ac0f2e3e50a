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
import { markSignalUnrecorded } from './markSignalUnrecorded.js';
import type { UnrecordedEffects } from './makeUnrecordedEffects.js';

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
  /** Executions whose recording failed, recorded at the next attempt instead of executing again. */
  unrecordedEffects: UnrecordedEffects;
}

export type ExecuteResult = 'executed' | 'already_settled' | 'failed' | 'missing' | 'deferred' | 'unrecorded';

/** The order went out but recording it failed: the job is retried to record it (not to execute it again). */
class UnrecordedExecutionError extends Error {
  override name = 'UnrecordedExecutionError';
}

/**
 * Runs one attempt of a signal's job. Idempotent: a settled signal is left alone, and the execution record is
 * unique per signal. A transient error is rethrown (the queue retries with exponential backoff) until the
 * last attempt, which fails the signal; a permanent error fails it at once.
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
    span.setAttribute(ATTR.executionOutcome, err instanceof UnrecordedExecutionError ? 'unrecorded' : 'retry');
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
  if (signal.status === 'queued' && (await deferBehindEarlierSignal(deps.pool, job))) {
    log.info({ ticker: signal.ticker }, 'an earlier signal of this ticker waits for its retry; put back behind it');
    return { result: 'deferred', outcome: 'deferred' };
  }
  // An execution of this run that happened in an earlier attempt of this process, but was not recorded.
  const runKey = `${signal.id}:${signal.retries}`;
  if (!(await markSignalExecuting(deps.pool, signal.id, job.attempt))) {
    deps.unrecordedEffects.forget(runKey);
    log.info({ status: signal.status }, 'signal already settled; nothing to do');
    return { result: 'already_settled', outcome: 'already_settled' };
  }
  const startedAt = new Date();
  const base = { signal, executor: deps.executor.name, attempt: job.attempt, startedAt, traceId: job.traceId ?? signal.traceId };
  let effect = deps.unrecordedEffects.take(runKey);
  if (effect === undefined) {
    try {
      const ageSeconds = alertAgeOverLimit(signal, deps.maxAlertAgeSeconds ?? 0, startedAt);
      if (ageSeconds !== undefined) {
        throw new PermanentExecutionError(
          `not executed: the alert is ${Math.round(ageSeconds)} s old at its turn to execute, and MAX_ALERT_AGE_SECONDS is ${deps.maxAlertAgeSeconds} (it waited for retries or a held queue)`,
        );
      }
      effect = await deps.executor.execute(signal);
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
  } else {
    log.warn({ outcome: effect.outcome }, 'recording the execution of an earlier attempt (not executing again)');
  }
  return recordExecution(deps, job, { ...base, effect }, runKey, log);
}

/**
 * Records an execution that happened. Its failure is not the execution's: the order went out, so it is never sent
 * again from here nor marked failed (an operator's retry of a "failed" signal would send it again). Before the last
 * attempt the effect is kept for the next one, which records it; at the last, the signal stays `executing` with
 * the reason, for the stuck-signal check and an operator to reconcile.
 */
async function recordExecution(
  deps: ExecuteDeps,
  job: { signalId: string; attempt: number; maxAttempts: number },
  execution: Parameters<typeof markSignalExecuted>[1],
  runKey: string,
  log: Logger,
): Promise<{ result: ExecuteResult; outcome: string; error?: string }> {
  const { effect } = execution;
  try {
    const recorded = await markSignalExecuted(deps.pool, execution);
    log.info({ executor: deps.executor.name, outcome: effect.outcome, recorded }, 'signal executed');
    return recorded ? { result: 'executed', outcome: effect.outcome } : { result: 'already_settled', outcome: 'already_settled' };
  } catch (thrown) {
    const err = toError(thrown);
    const what = `the order was ${effect.outcome}, but recording it failed`;
    if (job.attempt < job.maxAttempts) {
      deps.unrecordedEffects.remember(runKey, effect);
      const message = `${what}: ${err.message}; it is recorded at the next attempt, not sent again`;
      await markSignalForRetry(deps.pool, job.signalId, message).catch((e: unknown) => log.warn({ err: toError(e) }, 'could not note the unrecorded execution'));
      log.error({ err, outcome: effect.outcome, response: effect.response, nextAttempt: job.attempt + 1 }, 'execution not recorded; the next attempt records it');
      throw new UnrecordedExecutionError(message);
    }
    const message = `${what} at the last attempt (${job.attempt} of ${job.maxAttempts}): ${err.message}: not sent again; reconcile it with the target`;
    await markSignalUnrecorded(deps.pool, job.signalId, message).catch((e: unknown) => log.warn({ err: toError(e) }, 'could not note the unrecorded execution'));
    log.error({ err, outcome: effect.outcome, response: effect.response }, 'execution not recorded at the last attempt; the signal stays executing');
    return { result: 'unrecorded', outcome: 'unrecorded', error: message };
  }
}
