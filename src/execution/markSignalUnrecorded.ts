import type { Pool } from '../db/makePool.js';
import { toStorableText } from '../domain/storableText.js';

/**
 * An execution that happened but could not be recorded at the signal's last attempt: the signal stays `executing`
 * (not failed: its order went through, and an operator retry would send it again), with the reason. The stuck-signal
 * health check counts it as stuck once it has been unchanged for HEALTH_QUEUE_MAX_AGE_SECONDS.
 */
export async function markSignalUnrecorded(pool: Pool, id: string, error: string): Promise<void> {
  await pool.query(`UPDATE signals SET last_error = $2, updated_at = now() WHERE id = $1 AND status = 'executing'`, [id, toStorableText(error)]);
}
