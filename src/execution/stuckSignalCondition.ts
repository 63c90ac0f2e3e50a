/**
 * When a signal is stuck: it will not settle by itself, and nothing is still working on it. SQL over `signals s`,
 * with two parameters: `$afterSeconds` (unchanged for at least that long) and `$liveAttemptSeconds` (a job locked
 * more recently than that is an attempt still running; see liveAttemptSeconds). Stuck means `queued` or
 * `executing`, unchanged, and no job of the signal that will still run: none waiting for its run or its retry
 * (unlocked, attempts left), none running. Left over are: no job at all (removed; done without settling the
 * signal, as after an order kept as unrecorded at the last attempt), a job that used up its attempts, and a job
 * locked by a worker that died (graphile-worker frees it only after 4 hours). Read through graphile-worker's public jobs
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
 * How long a job may stay locked before it counts as held by a worker that died: an attempt's forward, recording
 * its order for EXECUTION_RECORD_RETRY_MS, the wait before the last try, and the six statements around them
 * (loading, ordering, marking it executing, a recording try begun at the deadline and its rollback, keeping the
 * order), each of which may wait the worker pool's timeout for a connection and again for its answer. An attempt
 * that goes on longer (one whose worker cannot reach Postgres while the API can: recordSentEffect then keeps
 * trying) is treated as dead too: settling it is then the operator's decision after checking the target, and the
 * execution's unique index lets only one of the two settle the signal.
 */
export function liveAttemptSeconds(options: { forwardTimeoutMs: number; recordRetryMs: number }): number {
  const statementMs = 2 * WORKER_DB_TIMEOUT_MS + 1_000;
  return Math.ceil((options.forwardTimeoutMs + options.recordRetryMs + 2_000 + 6 * statementMs) / 1000);
}
