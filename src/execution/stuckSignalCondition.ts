/**
 * When a signal is stuck: it will not settle by itself, and nothing is still working on it. SQL over `signals s`,
 * with two parameters: `$afterSeconds` (unchanged for at least that long) and `$liveAttemptSeconds` (a job locked
 * more recently than that is an attempt still running; see liveAttemptSeconds). Stuck means `queued` or
 * `executing`, unchanged, and no job of the signal that will still run: none waiting for its run or its retry
 * (unlocked, attempts left), none running. Left over are: no job at all (removed, or done without settling the
 * signal), a job that used up its attempts (an order kept as unrecorded at the last attempt), and a job locked by
 * a worker that died (graphile-worker frees it only after 4 hours). Read through graphile-worker's public jobs
 * view (our job key is the signal id). The health check counts these; only these can be settled by hand.
 */
export function stuckSignalCondition(afterSecondsParam: string, liveAttemptSecondsParam: string): string {
  return `s.status IN ('queued', 'executing')
   AND s.updated_at < now() - make_interval(secs => ${afterSecondsParam})
   AND NOT EXISTS (
     SELECT 1 FROM graphile_worker.jobs j
      WHERE j.key = s.id::text
        AND ((j.locked_at IS NULL AND j.attempts < j.max_attempts)
             OR j.locked_at > now() - make_interval(secs => ${liveAttemptSecondsParam})))`;
}

/** The worker pool's statement and connection timeout (startWorker). */
export const WORKER_DB_TIMEOUT_MS = 30_000;

/**
 * The longest an attempt can run: its forward, then recording the order for EXECUTION_RECORD_RETRY_MS, plus the
 * statements around them, each bounded by the worker pool's timeout (and its grace): marking it executing, a
 * recording try begun at the deadline (its statement and the rollback after it), keeping the order. A job locked
 * for longer is held by a worker that died.
 */
export function liveAttemptSeconds(options: { forwardTimeoutMs: number; recordRetryMs: number }): number {
  return Math.ceil((options.forwardTimeoutMs + options.recordRetryMs + 4 * (WORKER_DB_TIMEOUT_MS + 1_000)) / 1000);
}
