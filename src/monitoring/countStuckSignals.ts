import type { Pool } from '../db/makePool.js';
import { stuckSignalCondition } from '../execution/stuckSignalCondition.js';

/**
 * Signals that will not settle by themselves (see stuckSignalCondition): `queued` or `executing`, unchanged for
 * `afterSeconds`, with no job of theirs waiting or running. A signal whose job waits for its retry, or for a
 * worker, is not stuck: the queue check sees it.
 */
export async function countStuckSignals(
  pool: Pool,
  afterSeconds: number,
  liveAttemptSeconds: number,
): Promise<{ stuck: number; oldestSignalId: string | null }> {
  const { rows } = await pool.query(
    `SELECT count(*)::int AS stuck, (array_agg(s.id ORDER BY s.id))[1] AS oldest
       FROM signals s
      WHERE ${stuckSignalCondition('$1', '$2')}`,
    [afterSeconds, liveAttemptSeconds],
  );
  return { stuck: rows[0].stuck, oldestSignalId: rows[0].oldest };
}
