import type { Pool } from '../db/makePool.js';

/** Rows deleted per statement: small enough that a prune never holds locks for long. */
const BATCH = 5_000;

/** Deletes monitoring records older than `olderThan`, in small batches. Returns how many of each went. */
export async function pruneRecords(pool: Pool, olderThan: Date): Promise<{ requests: number; stages: number }> {
  const deleted = { requests: 0, stages: 0 };
  for (const [table, key] of [['processing_stages', 'stages'], ['webhook_requests', 'requests']] as const) {
    for (;;) {
      const result = await pool.query(
        `DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE created_at < $1 LIMIT ${BATCH})`,
        [olderThan],
      );
      deleted[key] += result.rowCount ?? 0;
      if ((result.rowCount ?? 0) < BATCH) break;
    }
  }
  return deleted;
}
