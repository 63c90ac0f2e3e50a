import type { Pool } from '../db/makePool.js';

/** Rows deleted per statement: small enough that a prune never holds locks for long. */
const BATCH = 5_000;

/**
 * Deletes monitoring records older than `olderThan`, in small batches. A webhook's stages live in its row
 * (migration 0004), so they go with it. Returns how many webhooks and stages went.
 */
export async function pruneRecords(pool: Pool, olderThan: Date): Promise<{ requests: number; stages: number }> {
  const deleted = { requests: 0, stages: 0 };
  for (;;) {
    const result = await pool.query(
      `DELETE FROM webhook_requests WHERE id IN (SELECT id FROM webhook_requests WHERE created_at < $1 LIMIT ${BATCH})
       RETURNING json_array_length(stages::json) AS stages`,
      [olderThan],
    );
    deleted.requests += result.rowCount ?? 0;
    deleted.stages += result.rows.reduce((n: number, r: { stages: number }) => n + r.stages, 0);
    if ((result.rowCount ?? 0) < BATCH) break;
  }
  return deleted;
}
