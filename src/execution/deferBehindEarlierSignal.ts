import type { Pool } from '../db/makePool.js';
import { EXECUTE_SIGNAL_TASK, makeExecuteSignalPayload } from '../domain/executeSignalJob.js';

/**
 * Keeps a symbol's signals in the order they arrived. graphile-worker runs one job of a queue (`symbol:<ticker>`)
 * at a time, but in the order of its jobs' run times, not of our signals: a job that fails is put back with a
 * later run_at (the next signal of the symbol ran before the earlier one's retry: a close before the buy it
 * closes), and two processes' batches, or two of one process's, add their jobs in their own order. So before a
 * signal runs, an earlier signal of its ticker with a job still to run puts it back behind that job: the same job
 * again (its key is the signal id; the one running now completes without executing). Its own attempts are not
 * spent. Returns whether the signal was put back.
 *
 * Put back at the latest such job's run time plus one microsecond for each of those earlier signals, so behind all
 * of them and, among signals put back behind the same jobs, in their own order. At that run time exactly, as
 * before, graphile-worker (which orders by run time alone) picked among equal times at random: signals put back
 * behind one another were picked again before the one they waited for, and put back again. Two processes given
 * the same 100 alerts at once ran 49 of them in a minute, through 1,077 put-backs (tests/multiInstance.test.ts
 * with 100 alerts, 4 failures in 15 runs); now each signal is put back about once.
 */
const SQL = `
WITH me AS (
  SELECT id, ticker FROM signals WHERE id = $1::uuid
), earlier AS (
  SELECT max(j.run_at) AS run_at, count(*) AS n
    FROM me
    -- An earlier signal whose order went out already (kept as unrecorded, for its retry to record) holds nothing up.
    JOIN signals s ON s.ticker = me.ticker AND s.id < me.id AND s.status IN ('queued', 'executing') AND s.unrecorded_effect IS NULL
    JOIN graphile_worker.jobs j ON j.key = s.id::text AND j.task_identifier = $2
   -- A job still to run (a first attempt or a retry): not one that used up its attempts (kept by graphile-worker,
   -- never run again: waiting for it would put this signal back for ever), nor one locked by a worker (its queue is
   -- then locked too).
   WHERE j.attempts < j.max_attempts AND j.locked_at IS NULL
)
SELECT graphile_worker.add_job($2::text, $3::json, queue_name := 'symbol:' || me.ticker, run_at := earlier.run_at + earlier.n * interval '1 microsecond',
                               max_attempts := $4, job_key := me.id::text) AS job
  FROM me, earlier
 WHERE earlier.run_at IS NOT NULL`;

export async function deferBehindEarlierSignal(pool: Pool, job: { signalId: string; traceparent: string | null; maxAttempts: number }): Promise<boolean> {
  const { rows } = await pool.query(SQL, [job.signalId, EXECUTE_SIGNAL_TASK, JSON.stringify(makeExecuteSignalPayload(job.signalId, job.traceparent)), job.maxAttempts]);
  return rows.length > 0;
}
