import type { Pool } from '../db/makePool.js';

/**
 * Unix time (seconds) at which the latest signal was received, or undefined when there is none yet.
 * Read from the signals table, not from memory, so a restart or a second instance does not reset it.
 * Signal ids are UUIDv7 (time ordered), so this is one primary-key index probe.
 */
export async function getLastSignalTime(pool: Pool): Promise<number | undefined> {
  const { rows } = await pool.query(`SELECT EXTRACT(EPOCH FROM received_at)::float8 AS t FROM signals ORDER BY id DESC LIMIT 1`);
  return rows[0]?.t ?? undefined;
}
