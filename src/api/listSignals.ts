import type { Pool } from '../db/makePool.js';
import { SIGNAL_COLUMNS, type SignalRow } from './signalJson.js';

export interface SignalFilter {
  status?: string;
  ticker?: string;
  since?: Date;
  /** Id of the last signal of the previous page (ids are UUIDv7: newest first = id descending). */
  cursor?: string;
  limit: number;
}

export async function listSignals(pool: Pool, f: SignalFilter): Promise<SignalRow[]> {
  const result = await pool.query<SignalRow>(
    `SELECT ${SIGNAL_COLUMNS}
       FROM signals
      WHERE ($1::text IS NULL OR status = $1)
        AND ($2::text IS NULL OR ticker = $2)
        AND ($3::timestamptz IS NULL OR received_at >= $3)
        AND ($4::uuid IS NULL OR id < $4)
      ORDER BY id DESC
      LIMIT $5`,
    [f.status ?? null, f.ticker ?? null, f.since ?? null, f.cursor ?? null, f.limit],
  );
  return result.rows;
}
