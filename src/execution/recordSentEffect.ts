import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { toError } from '../domain/errors.js';
import type { ExecuteDeps, ExecuteResult } from './executeSignal.js';
import type { StoredSignal } from './loadSignal.js';
import { markSignalExecuted } from './markSignalExecuted.js';
import { saveUnrecordedEffect } from './saveUnrecordedEffect.js';
import { effectOf, type SentEffect } from './sentEffect.js';

/** Waits between tries to record an order that went out: short first (a blip), then at most 2 s (a restart). */
const RETRY_DELAYS_MS = [50, 100, 250, 500, 1_000, 2_000];

/**
 * Records an order that went out. Its failure is not the execution's: the order is at the target, so it is never
 * sent again from here, nor failed (an operator's retry of a "failed" signal would send it again).
 * - The attempt keeps trying for `recordRetryMs`, holding its job, so no other worker can take the signal and the
 *   order waits in this process alone. A Postgres restart is over within that.
 * - Past that (or when the worker stops), the order is kept with the signal (`unrecorded_effect`, for the next
 *   attempt on any worker) and in this worker's memory (in case Postgres refuses that too), and the attempt is
 *   retried to record it.
 * - At the last attempt the signal stays `executing`, with the reason and the order kept: counted as
 *   `unrecorded`, stuck for the health check, to be settled by an operator who has checked the target.
 */
export async function recordSentEffect(
  deps: ExecuteDeps,
  job: { signalId: string; attempt: number; maxAttempts: number; signal: StoredSignal; runKey: string; log: Logger },
  sent: SentEffect,
): Promise<{ result: ExecuteResult; outcome: string; error?: string }> {
  const { log } = job;
  const deadline = Date.now() + deps.recordRetryMs;
  let lastError: Error;
  for (let tries = 0; ; tries++) {
    try {
      const recorded = await markSignalExecuted(deps.pool, {
        signal: job.signal,
        executor: deps.executor.name,
        effect: effectOf(sent),
        attempt: sent.attempt,
        startedAt: new Date(sent.startedAt),
        completedAt: new Date(sent.completedAt),
        traceId: sent.traceId,
      });
      deps.unrecordedEffects.forget(job.runKey);
      log.info({ executor: deps.executor.name, outcome: sent.outcome, recorded, tries: tries + 1 }, 'signal executed');
      return recorded ? { result: 'executed', outcome: sent.outcome } : { result: 'already_settled', outcome: 'already_settled' };
    } catch (thrown) {
      lastError = toError(thrown);
      const delayMs = RETRY_DELAYS_MS[Math.min(tries, RETRY_DELAYS_MS.length - 1)]!;
      if (deps.stopping() || Date.now() + delayMs > deadline) break;
      if (tries === 0) log.warn({ err: lastError }, 'recording an order that went out failed; trying again');
      await sleep(delayMs);
    }
  }
  const what = `the order was ${sent.outcome} (attempt ${sent.attempt}), but recording it failed`;
  const last = job.attempt >= job.maxAttempts;
  const message = last
    ? `${what} at the last attempt (${job.attempt} of ${job.maxAttempts}): ${lastError.message}: not sent again; reconcile it with the target`
    : `${what}: ${lastError.message}; it is recorded at the next attempt, not sent again`;
  deps.unrecordedEffects.remember(job.runKey, sent);
  await saveUnrecordedEffect(deps.pool, job.signalId, sent, message).catch((e: unknown) =>
    log.warn({ err: toError(e) }, 'could not keep the unrecorded order with its signal; this worker keeps it in memory'),
  );
  if (!last) {
    log.error({ err: lastError, outcome: sent.outcome, nextAttempt: job.attempt + 1 }, 'order went out but was not recorded; the next attempt records it');
    throw new Error(message);
  }
  log.error({ err: lastError, outcome: sent.outcome }, 'order went out but was not recorded at the last attempt; the signal stays executing');
  return { result: 'unrecorded', outcome: 'unrecorded', error: message };
}
