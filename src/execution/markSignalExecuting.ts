import type { Pool } from '../db/makePool.js';

/** queued -> executing, counting the attempt. Returns false when the signal is already settled. */
export async function markSignalExecuting(pool: Pool, id: string, attempt: number): Promise<boolean> {
  const result = await pool.query(
    `UPDATE signals
        SET status = 'executing', attempts = $2, executing_at = COALESCE(executing_at, now()), updated_at = now()
      WHERE id = $1 AND status IN ('queued', 'executing')`,
    [id, attempt],
  );
  return result.rowCount === 1;
}
