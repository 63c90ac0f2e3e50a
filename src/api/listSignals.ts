import type { Pool } from '../db/makePool.js';
import { uuidv7Floor } from '../monitoring/uuidv7Floor.js';
import { SIGNAL_COLUMNS, type SignalRow } from './signalJson.js';

export interface SignalFilter {
  status?: string;
  ticker?: string;
  since?: Date;
  /** Id of the last signal of the previous page (ids are UUIDv7: newest first = id descending). */
  cursor?: string;
  limit: number;
}

/**
 * `since` also bounds the ids: a signal's id is the UUIDv7 of a moment after its receipt, so the newest-first scan of
 * the primary key stops at the signals received since then (less 5 minutes, for a clock stepped back). With
 * `received_at >= since` alone, a page that `since` left short read every signal ever kept (signals are not pruned).
 */
const SINCE_SLACK_MS = 5 * 60_000;

export async function listSignals(pool: Pool, f: SignalFilter): Promise<SignalRow[]> {
  const result = await pool.query<SignalRow>(
    `SELECT ${SIGNAL_COLUMNS}
       FROM signals
      WHERE ($1::text IS NULL OR status = $1)
        AND ($2::text IS NULL OR ticker = $2)
        AND ($3::timestamptz IS NULL OR received_at >= $3)
        AND ($4::uuid IS NULL OR id < $4)
        AND ($6::uuid IS NULL OR id >= $6)
      ORDER BY id DESC
      LIMIT $5`,
    [f.status ?? null, f.ticker ?? null, f.since ?? null, f.cursor ?? null, f.limit, f.since ? uuidv7Floor(new Date(f.since.getTime() - SINCE_SLACK_MS)) : null],
  );
  return result.rows;
}
