import type { Pool } from '../db/makePool.js';
import { SIGNAL_COLUMNS, type SignalRow } from './signalJson.js';

export async function getSignal(pool: Pool, id: string): Promise<SignalRow | undefined> {
  const result = await pool.query<SignalRow>(`SELECT ${SIGNAL_COLUMNS} FROM signals WHERE id = $1`, [id]);
  return result.rows[0];
}
