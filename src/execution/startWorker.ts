import { type Tracer, trace } from '@opentelemetry/api';
import { EventEmitter } from 'node:events';
import { Logger as WorkerLogger, run, type Task, type WorkerEvents } from 'graphile-worker';
import type { Logger } from 'pino';
import { closePool, makePool, type Pool } from '../db/makePool.js';
import { EXECUTE_SIGNAL_TASK, parseExecuteSignalPayload } from '../domain/executeSignalJob.js';
import { toError } from '../domain/errors.js';
import { toStorableText } from '../domain/storableText.js';
import { executeSignal } from './executeSignal.js';
import { WORKER_DB_TIMEOUT_MS } from './stuckSignalCondition.js';
import type { Executor } from './executor.js';
import { makeTaskTracker } from './makeTaskTracker.js';
import { superviseRunner, type RestartDelayMs, type StartedRunner, type SupervisedRunner } from './superviseRunner.js';

export interface WorkerOptions {
  connectionString: string;
  /** The embedded server: log in only by a completed SCRAM exchange (ScramOnlyClient). */
  scramOnly?: boolean;
  concurrency: number;
  executor: Executor;
  logger: Logger;
  /** How often to look for jobs whose retry time has come (new jobs arrive by LISTEN/NOTIFY at once). */
  pollIntervalMs?: number;
  /** How often a worker looks for jobs locked by a dead worker (graphile-worker's lock timeout is 4 hours). */
  resetLockedIntervalMs?: { min: number; max: number };
  /** Execution spans join the webhook's trace through the traceparent stored with the job. */
  tracer?: Tracer;
  /** MAX_ALERT_AGE_SECONDS, checked again when a signal's turn comes (see ExecuteDeps); 0 or absent: off. */
  maxAlertAgeSeconds?: number;
  /** EXECUTION_RECORD_RETRY_MS (see ExecuteDeps); its default when absent. */
  recordRetryMs?: number;
  /** How long after a runner stopped on its own a new one starts (doubling while starts fail). */
  restartDelayMs?: RestartDelayMs;
  /** Called for each runner that stopped on its own (the `signal_worker_restarts_total` counter). */
  onUnexpectedStop?: (err: Error | undefined) => void;
}

export interface RunningWorker {
  pool: Pool;
  /** False from a runner's unexpected stop until its replacement runs (see superviseRunner). */
  alive(): boolean;
  /** Runners started again after one stopped on its own. */
  restarts(): number;
  /** Stops taking jobs and lets running ones finish. */
  stop(): Promise<void>;
}

/** graphile-worker's info lines that are no news to an operator (we never use its crontab). */
const QUIET_MESSAGES = /cron is disabled/;

/**
 * Adapts graphile-worker's logger to ours. Its meta objects carry whole rows and clients (a job's payload holds
 * the trace context, a pg error the connection's details): only ids and error messages are kept.
 */
function makeWorkerLogger(logger: Logger): WorkerLogger {
  return new WorkerLogger((scope) => {
    const child = logger.child({ component: 'worker', ...(scope.jobId ? { jobId: scope.jobId } : {}) });
    return (level, message, meta) => {
      let method: 'error' | 'warn' | 'info' | 'debug' = level === 'error' ? 'error' : level === 'warning' ? 'warn' : level === 'info' ? 'info' : 'debug';
      if (method === 'info' && QUIET_MESSAGES.test(message)) method = 'debug';
      child[method](summariseMeta(meta), message);
    };
  });
}

function summariseMeta(meta: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta ?? {})) {
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) out[key] = value;
    else if (value instanceof Error) out[key === 'error' ? 'err' : key] = { message: value.message, code: (value as { code?: unknown }).code };
    else if (key === 'job' && typeof value === 'object') {
      const job = value as { id?: unknown; task_identifier?: unknown; attempts?: unknown };
      Object.assign(out, { jobId: job.id, task: job.task_identifier, attempts: job.attempts });
    }
  }
  return out;
}

/** Starts the background worker in this process: graphile-worker running `execute_signal` jobs. */
export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  // Its own pool: the request pool's short statement timeout is for the request path, and jobs must not
  // compete with requests for connections. Statements here are bounded at 30 s.
  const pool = makePool({
    connectionString: options.connectionString,
    max: options.concurrency + 2,
    timeoutMs: WORKER_DB_TIMEOUT_MS,
    logger: options.logger,
    applicationName: 'tv-webhook-worker',
    scramOnly: options.scramOnly,
  });
  const logger = options.logger.child({ component: 'executor' });
  let stopping = false;
  const deps = {
    pool,
    executor: options.executor,
    logger,
    tracer: options.tracer ?? trace.getTracer('tv-webhook'),
    maxAlertAgeSeconds: options.maxAlertAgeSeconds,
    recordRetryMs: options.recordRetryMs ?? 30_000,
    stopping: () => stopping,
  };
  const tasks = makeTaskTracker();
  const task: Task = (payload, helpers) =>
    tasks.track(async () => {
      const { signalId, traceparent } = parseExecuteSignalPayload(payload);
      try {
        await executeSignal(deps, { signalId, attempt: helpers.job.attempts, maxAttempts: helpers.job.max_attempts, traceparent });
      } catch (err) {
        // graphile-worker stores the message through JSON in its failed-job update; a lone surrogate (a bridge's
        // answer cut mid-emoji) made Postgres refuse that update, and a refused update stops the worker.
        throw new Error(toStorableText(toError(err).message), { cause: err });
      }
    });
  const startRunner = async (): Promise<StartedRunner> => {
    // The pool's id is what its jobs and queues are locked with: a runner that stops on its own leaves them locked.
    const events = new EventEmitter() as WorkerEvents;
    let poolId: string | undefined;
    let cause: Error | undefined;
    events.on('pool:create', ({ workerPool }) => (poolId = workerPool.id));
    events.on('pool:fatalError', ({ error }) => (cause ??= toError(error)));
    const runner = await run({
      pgPool: pool,
      concurrency: options.concurrency,
      noHandleSignals: true,
      pollInterval: options.pollIntervalMs ?? 2000,
      taskList: { [EXECUTE_SIGNAL_TASK]: task },
      logger: makeWorkerLogger(options.logger),
      events,
      // Since graphile-worker 0.17 a finished job's "done"/"failed" update is not awaited unless these batch
      // delays are >= 0 (its default, -1): a graceful stop returned before the update was written (the job
      // stayed locked for 4 hours, then ran again), and an update that failed was an unhandled rejection
      // that ended the process. With 0 the updates of one tick share a statement, stop() waits for them, and a
      // failed one stops the runner, which superviseRunner then starts again.
      preset: { worker: { completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
      ...(options.resetLockedIntervalMs
        ? { minResetLockedInterval: options.resetLockedIntervalMs.min, maxResetLockedInterval: options.resetLockedIntervalMs.max }
        : {}),
    });
    return { runner, poolId, cause: () => cause };
  };
  let supervised: SupervisedRunner;
  try {
    supervised = await superviseRunner({
      start: startRunner,
      unlock: async (poolId) => void (await pool.query('SELECT graphile_worker.force_unlock_workers($1::text[])', [[poolId]])),
      idle: () => tasks.idle(),
      logger: options.logger.child({ component: 'worker' }),
      restartDelayMs: options.restartDelayMs,
      onUnexpectedStop: options.onUnexpectedStop,
    });
  } catch (err) {
    await pool.end();
    throw err;
  }
  return {
    pool,
    alive: () => supervised.alive(),
    restarts: () => supervised.restarts(),
    stop: async () => {
      stopping = true;
      await supervised.stop();
      await closePool(pool);
    },
  };
}
