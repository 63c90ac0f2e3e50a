import type { Runner } from 'graphile-worker';
import type { Logger } from 'pino';
import { toError } from '../domain/errors.js';

/** A started graphile-worker runner and the id its worker pool locks jobs with (`locked_by`). */
export interface StartedRunner {
  runner: Runner;
  poolId: string | undefined;
  /** Why its pool shut itself down (graphile-worker's `pool:fatalError`), once known. */
  cause?: () => Error | undefined;
}

export interface SupervisedRunner {
  /** True while a runner is running; false between a runner's unexpected stop and its replacement's start. */
  alive(): boolean;
  /** Runners started again after one stopped on its own. */
  restarts(): number;
  /** Stops restarting, and stops the running runner (its running jobs finish). */
  stop(): Promise<void>;
}

export interface RestartDelayMs {
  min: number;
  max: number;
}

/** From 1 s, doubling to 30 s while a restart fails (Postgres away): soon back, and no busy loop. */
export const DEFAULT_RESTART_DELAY_MS: RestartDelayMs = { min: 1_000, max: 30_000 };

/**
 * Keeps a graphile-worker runner running for as long as the process wants one. graphile-worker 0.18 stops its whole
 * worker pool when one job's "done" or "failed" update fails ("Could not completeJobs; queue is in an inconsistent
 * state; aborting"): despite its retry options, the retry loop of that update ends at the first error. One failed
 * statement (Postgres restarting as a job ended, a connection cut) left the process with no worker until it was
 * restarted by hand, and the job that had ended, with its symbol's queue, locked for graphile-worker's 4 hours.
 *
 * When a runner stops other than by `stop()`, its task functions are waited for (`idle`), the jobs and queues its
 * pool still holds are unlocked (`force_unlock_workers`: a pool's id is random and no other pool holds it), and a
 * new runner is started after `restartDelayMs.min`, the delay doubling while a start fails. A job run again is
 * harmless: an attempt finds its signal settled, or records the order an earlier attempt sent (executeSignal).
 * Stopped while a restart waits, the supervisor still unlocks what the dead pool held, so that the next process to
 * start finds the job and its ticker's queue free instead of locked for 4 hours.
 */
export async function superviseRunner(options: {
  start: () => Promise<StartedRunner>;
  unlock: (poolId: string) => Promise<void>;
  /**
   * Resolves when no task function of this process is running. A pool whose graceful shutdown fails ends with a
   * forceful one that gives its running jobs back to the queue while their task functions go on; a new runner
   * started before they end could take such a job and run its signal twice at once.
   */
  idle?: () => Promise<void>;
  logger: Logger;
  restartDelayMs?: RestartDelayMs;
  /** Called once for each runner that stopped on its own (the restart counter). */
  onUnexpectedStop?: (err: Error | undefined) => void;
}): Promise<SupervisedRunner> {
  const delays = options.restartDelayMs ?? DEFAULT_RESTART_DELAY_MS;
  let current: StartedRunner | undefined = await options.start();
  let stopping = false;
  let restarts = 0;
  let restarting: Promise<void> | undefined;
  let wake: (() => void) | undefined;

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      if (stopping) return resolve();
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  /** The stopped runner whose pool's locks are still to be freed. */
  let dead: StartedRunner | undefined;
  const unlockDead = async () => {
    if (!dead) return;
    await options.idle?.();
    if (dead.poolId !== undefined) await options.unlock(dead.poolId);
    dead = undefined;
  };

  const restart = async () => {
    let delayMs = delays.min;
    for (;;) {
      await pause(delayMs);
      if (stopping) return;
      try {
        await unlockDead();
        if (stopping) return;
        const started = await options.start();
        if (stopping) {
          await started.runner.stop();
          return;
        }
        restarts += 1;
        current = started;
        watch(started);
        options.logger.warn({ restarts }, 'worker started again');
        return;
      } catch (err) {
        if (stopping) return;
        options.logger.error({ err: toError(err), retryInMs: Math.min(delayMs * 2, delays.max) }, 'worker restart failed; trying again');
        delayMs = Math.min(delayMs * 2, delays.max);
      }
    }
  };

  const watch = (started: StartedRunner) => {
    const ended = (rejected: Error | undefined) => {
      if (stopping || current !== started) return;
      current = undefined;
      dead = started;
      // runner.promise resolves even when the pool shut itself down on an error; the error comes with its event.
      const err = rejected ?? started.cause?.();
      options.logger.error({ err, restartInMs: delays.min }, 'worker stopped on its own; starting it again');
      try {
        options.onUnexpectedStop?.(err);
      } catch (hookErr) {
        options.logger.warn({ err: toError(hookErr) }, 'worker stop hook failed');
      }
      restarting = restart().finally(() => (restarting = undefined));
    };
    started.runner.promise.then(
      () => ended(undefined),
      (err: unknown) => ended(toError(err)),
    );
  };
  watch(current);

  return {
    alive: () => current !== undefined,
    restarts: () => restarts,
    stop: async () => {
      stopping = true;
      wake?.();
      await restarting;
      const running = current;
      current = undefined;
      if (running) {
        await running.runner.stop().catch((err: unknown) => {
          // It stopped on its own a moment ago (its end not yet seen here): nothing left to stop.
          if (!/already stopped/i.test(toError(err).message)) throw err;
        });
        // A pool that was already shutting itself down makes stop() return at once: its jobs may still be running.
        await running.runner.promise.catch(() => undefined);
        // Its pool shut itself down before its end was seen here: its locks are still to be freed.
        if (running.cause?.()) dead = running;
      }
      try {
        await unlockDead();
      } catch (err) {
        options.logger.error({ err: toError(err) }, 'could not unlock the jobs of the stopped worker; they wait for graphile-worker\'s 4-hour lock timeout');
      }
    },
  };
}
