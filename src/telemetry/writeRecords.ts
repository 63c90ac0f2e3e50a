import type { Pool } from '../db/makePool.js';
import type { RequestRecord } from './makeWebhookRecord.js';

/**
 * One statement, one round trip, one row per webhook per batch, whatever its size: the rows travel as one JSON
 * array (each webhook with its stages inside it, migration 0004) and jsonb_populate_recordset turns them into
 * table rows. ON CONFLICT makes a retried batch harmless when a timed-out write had in fact committed.
 */
const SQL = `
INSERT INTO webhook_requests
SELECT * FROM jsonb_populate_recordset(NULL::webhook_requests, $1::jsonb)
ON CONFLICT (id) DO NOTHING`;

/**
 * A webhook's row as the JSON the statement takes. Serialised once, when it is buffered: the buffer then holds
 * one compact string per webhook (its size known exactly) instead of the objects it was made from.
 */
export function serializeRecord(record: RequestRecord): string {
  return JSON.stringify(record);
}

export async function writeRecords(pool: Pool, rows: string[]): Promise<void> {
  await pool.query(SQL, [`[${rows.join(',')}]`]);
}

/**
 * Whether Postgres refused the rows themselves (so another attempt would fail the same way), rather than the
 * connection or the time allowed: data exceptions (22: a character or value it cannot store), integrity
 * constraints (23), program limits (54: too deep, too large).
 */
export function isRowDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|54)/.test(code);
}
