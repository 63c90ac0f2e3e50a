import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { toError } from '../domain/errors.js';
import type { ExecuteDeps, ExecuteResult } from './executeSignal.js';
import type { StoredSignal } from './loadSignal.js';
import { markSignalExecuted } from './markSignalExecuted.js';
import { saveUnrecordedEffect } from './saveUnrecordedEffect.js';
import { effectOf, type SentEffect } from './sentEffect.js';

/** Waits between tries to record an order that went out: short first (a blip), then every 2 s (a restart). */
const RETRY_DELAYS_MS = [50, 100, 250, 500, 1_000, 2_000];
/** While Postgres is away, a warning this often says the attempt is still trying (the first failure is logged at once). */
const STILL_TRYING_LOG_MS = 60_000;

/**
 * Records an order that went out. Its failure is not the execution's: the order is at the target, so it is never
 * sent again from here, nor failed (an operator's retry of a "failed" signal would send it again).
 * - The attempt keeps trying to record it for `recordRetryMs`, holding its job, so no other worker can take the
 *   signal. A Postgres restart is over within that.
 * - Past that, the order is kept with the signal (`unrecorded_effect`) for its next attempt, on any worker, and the
 *   attempt ends: retried, or at the last attempt the signal stays `executing` (counted as `unrecorded`, stuck for
 *   the health check, settled by an operator who has checked the target).
 * - While Postgres takes neither, the attempt goes on trying both: ending it then would help nothing, since
 *   graphile-worker could not record the failed attempt either (which stops the worker, its job locked for 4 hours).
 *   Only the worker stopping ends it: the order is then in no database, which the log says.
 */
export async function recordSentEffect(
  deps: ExecuteDeps,
  job: { signalId: string; attempt: number; maxAttempts: number; signal: StoredSignal; log: Logger },
  sent: SentEffect,
): Promise<{ result: ExecuteResult; outcome: string; error?: string }> {
  const { log } = job;
  const started = Date.now();
  const deadline = started + deps.recordRetryMs;
  let loggedAt = 0;
  const what = `the order was ${sent.outcome} (attempt ${sent.attempt}), but recording it failed`;
  const last = job.attempt >= job.maxAttempts;
  let message = '';
  for (let tries = 0; ; tries++) {
    try {
      const recorded = await markSignalExecuted(deps.pool, {
        signal: job.signal,
        executor: sent.executor,
        effect: effectOf(sent),
        attempt: sent.attempt,
        startedAt: new Date(sent.startedAt),
        completedAt: new Date(sent.completedAt),
        traceId: sent.traceId,
      });
      if (!recorded) return settledMeanwhile(log, sent);
      log.info({ executor: sent.executor, outcome: sent.outcome, tries: tries + 1 }, 'signal executed');
      return { result: 'executed', outcome: sent.outcome };
    } catch (thrown) {
      const err = toError(thrown);
      if (Date.now() - loggedAt >= STILL_TRYING_LOG_MS) {
        loggedAt = Date.now();
        log.warn({ err, tries: tries + 1, seconds: Math.round((loggedAt - started) / 1000) }, 'recording an order that went out failed; still trying (not sending it again)');
      }
      if (Date.now() >= deadline || deps.stopping()) {
        message = last
          ? `${what} at the last attempt (${job.attempt} of ${job.maxAttempts}): ${err.message}: not sent again; reconcile it with the target`
          : `${what}: ${err.message}; it is recorded at the next attempt, not sent again`;
        try {
          if (!(await saveUnrecordedEffect(deps.pool, job.signalId, sent, message))) return settledMeanwhile(log, sent);
          break;
        } catch (saveThrown) {
          if (Date.now() - loggedAt >= STILL_TRYING_LOG_MS) log.warn({ err: toError(saveThrown) }, 'keeping the unrecorded order with its signal failed too; still trying');
          if (deps.stopping()) {
            log.error({ err, saveErr: toError(saveThrown), outcome: sent.outcome, response: sent.response }, 'order went out and the worker stops before Postgres took it: check it against the target');
            throw new Error(`${what}, and the worker stopped before Postgres was back: ${err.message}`);
          }
        }
      }
      await sleep(RETRY_DELAYS_MS[Math.min(tries, RETRY_DELAYS_MS.length - 1)]!);
    }
  }
  if (!last) {
    log.warn({ outcome: sent.outcome, nextAttempt: job.attempt + 1 }, 'order went out but was not recorded; kept with the signal for the next attempt');
    throw new Error(message);
  }
  log.error({ outcome: sent.outcome }, 'order went out but was not recorded at the last attempt; the signal stays executing');
  return { result: 'unrecorded', outcome: 'unrecorded', error: message };
}

/**
 * The signal was settled while its order was being recorded: only an operator settling it by hand does that (the
 * execution's own row is recognised by markSignalExecuted). Whatever they decided, the order is at the target.
 */
function settledMeanwhile(log: Logger, sent: SentEffect): { result: ExecuteResult; outcome: string; error: string } {
  const error = `the order was ${sent.outcome} (attempt ${sent.attempt}), but the signal was settled by hand meanwhile: check it against the target`;
  log.error({ outcome: sent.outcome, response: sent.response }, error);
  return { result: 'already_settled', outcome: 'already_settled', error };
}
