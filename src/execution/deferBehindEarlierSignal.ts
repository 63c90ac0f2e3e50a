import type { Pool } from '../db/makePool.js';
import { EXECUTE_SIGNAL_TASK, makeExecuteSignalPayload } from '../domain/executeSignalJob.js';

/**
 * Keeps a symbol's signals in the order they arrived across retries. graphile-worker runs one job of a queue
 * (`symbol:<ticker>`) at a time, but a job that fails is put back with a later run_at and the queue is unlocked:
 * the next signal of the symbol ran before the earlier one's retry (a close before the buy it closes). So before a
 * signal runs, an earlier signal of its ticker still waiting for its retry puts it back behind that retry: the same
 * job again (its key is the signal id; the one running now completes without executing), at the latest such
 * retry's time. Its own attempts are not spent. Returns whether the signal was put back.
 */
const SQL = `
WITH me AS (
  SELECT id, ticker FROM signals WHERE id = $1::uuid
), earlier AS (
  SELECT max(j.run_at) AS run_at
    FROM me
    -- An earlier signal whose order went out already (kept as unrecorded, for its retry to record) holds nothing up.
    JOIN signals s ON s.ticker = me.ticker AND s.id < me.id AND s.status IN ('queued', 'executing') AND s.unrecorded_effect IS NULL
    JOIN graphile_worker.jobs j ON j.key = s.id::text AND j.task_identifier = $2
   -- A retry still to come: not a job that used up its attempts (kept by graphile-worker, never run again: waiting
   -- for it would put this signal back for ever), nor one locked by a worker (its queue is then locked too).
   WHERE j.attempts < j.max_attempts AND j.locked_at IS NULL
)
SELECT graphile_worker.add_job($2::text, $3::json, queue_name := 'symbol:' || me.ticker, run_at := earlier.run_at,
                               max_attempts := $4, job_key := me.id::text) AS job
  FROM me, earlier
 WHERE earlier.run_at IS NOT NULL`;

export async function deferBehindEarlierSignal(pool: Pool, job: { signalId: string; traceparent: string | null; maxAttempts: number }): Promise<boolean> {
  const { rows } = await pool.query(SQL, [job.signalId, EXECUTE_SIGNAL_TASK, JSON.stringify(makeExecuteSignalPayload(job.signalId, job.traceparent)), job.maxAttempts]);
  return rows.length > 0;
}
