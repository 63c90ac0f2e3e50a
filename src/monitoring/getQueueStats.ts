import type { Pool } from '../db/makePool.js';

export interface QueueStats {
  /** Jobs that still have attempts left and are not running: due now, or waiting for a retry. */
  depth: number;
  /** Jobs due now and not running. */
  due: number;
  /** Age of the oldest due, unlocked job in seconds (0 when none): how far the worker is behind. */
  oldestAgeSeconds: number;
  running: number;
}

/** From graphile-worker's public `jobs` view: its `_private_*` tables are no interface and change between versions. */
export async function getQueueStats(pool: Pool): Promise<QueueStats> {
  const { rows } = await pool.query(
    `SELECT count(*) FILTER (WHERE locked_at IS NULL AND attempts < max_attempts)::int AS depth,
            count(*) FILTER (WHERE locked_at IS NULL AND attempts < max_attempts AND run_at <= now())::int AS due,
            count(*) FILTER (WHERE locked_at IS NOT NULL)::int AS running,
            COALESCE(EXTRACT(EPOCH FROM now() - min(run_at) FILTER (WHERE locked_at IS NULL AND attempts < max_attempts AND run_at <= now())), 0)::float8 AS oldest
       FROM graphile_worker.jobs`,
  );
  const r = rows[0];
  return { depth: r.depth, due: r.due, running: r.running, oldestAgeSeconds: Math.max(0, r.oldest) };
}
