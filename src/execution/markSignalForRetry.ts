import type { Pool } from '../db/makePool.js';
import { toStorableText } from '../domain/storableText.js';

/** A transient failure: back to `queued` with the error, until the queue runs the next attempt. */
export async function markSignalForRetry(pool: Pool, id: string, error: string): Promise<void> {
  await pool.query(
    `UPDATE signals SET status = 'queued', last_error = $2, updated_at = now() WHERE id = $1 AND status = 'executing'`,
    [id, toStorableText(error)],
  );
}
