import type { Pool } from '../db/makePool.js';
import { toStorableText } from '../domain/storableText.js';
import type { SentEffect } from './sentEffect.js';

/**
 * Keeps a sent order whose execution could not be recorded with its signal, with the reason, for the signal's
 * next attempt on any worker (see migration 0014). The signal stays `executing`: its order is out, so no later
 * signal of its symbol waits behind it (deferBehindEarlierSignal skips it), and the health check counts it as stuck
 * once no job of it will run again.
 * A smaller statement than the execution's row, so it can succeed where that one failed (a value Postgres
 * refused); with Postgres away it fails too, and recordSentEffect keeps trying both. Returns false when the
 * signal is no longer `executing` (settled by hand meanwhile).
 */
export async function saveUnrecordedEffect(pool: Pool, id: string, sent: SentEffect, error: string): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE signals SET unrecorded_effect = $2::jsonb, last_error = $3, updated_at = now() WHERE id = $1 AND status = 'executing'`,
    [id, JSON.stringify(sent, (_key, value: unknown) => (typeof value === 'string' ? toStorableText(value) : value)), toStorableText(error)],
  );
  return rowCount === 1;
}
