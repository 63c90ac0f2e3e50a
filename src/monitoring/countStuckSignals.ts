import type { Pool } from '../db/makePool.js';

/**
 * Signals that will not settle by themselves: unchanged for `afterSeconds` while `executing` (an attempt far
 * longer than any executor's timeout: its worker died holding the job, which graphile-worker frees only after 4
 * hours), or `queued` with no job left to run them (the job was removed or used up its attempts without settling
 * the signal). A queued signal whose job waits for its retry time, or for a worker, is not stuck: the queue check
 * sees it. Read through graphile-worker's public jobs view (our job key is the signal id).
 */
export async function countStuckSignals(pool: Pool, afterSeconds: number): Promise<{ stuck: number; oldestSignalId: string | null }> {
  const { rows } = await pool.query(
    `SELECT count(*)::int AS stuck, (array_agg(s.id ORDER BY s.id))[1] AS oldest
       FROM signals s
      WHERE s.status IN ('queued', 'executing')
        AND s.updated_at < now() - make_interval(secs => $1)
        AND (s.status = 'executing'
             OR NOT EXISTS (SELECT 1 FROM graphile_worker.jobs j WHERE j.key = s.id::text AND j.attempts < j.max_attempts))`,
    [afterSeconds],
  );
  return { stuck: rows[0].stuck, oldestSignalId: rows[0].oldest };
}
