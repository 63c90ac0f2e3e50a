import type { Pool } from '../db/makePool.js';

/** Ids of the signals failed in [since, until), in the order they were received (ids are UUIDv7), at most `limit`. */
export async function listFailedSignalIds(pool: Pool, f: { since: Date; until?: Date; limit: number }): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `SELECT id FROM signals
      WHERE status = 'failed' AND failed_at >= $1 AND ($2::timestamptz IS NULL OR failed_at < $2)
      ORDER BY id
      LIMIT $3`,
    [f.since, f.until ?? null, f.limit],
  );
  return rows.map((r) => r.id);
}
