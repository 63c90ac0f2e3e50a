import type { Pool } from '../db/makePool.js';
import type { RequestRecord, StageRecord } from './spanToRecords.js';

/**
 * One statement, one round trip, one row per webhook per batch, whatever its size: the rows travel as one JSON
 * array (each webhook with its stages inside it, migration 0004) and jsonb_populate_recordset turns them into
 * table rows. ON CONFLICT makes a retried batch harmless when a timed-out write had in fact committed.
 */
const SQL = `
INSERT INTO webhook_requests
SELECT * FROM jsonb_populate_recordset(NULL::webhook_requests, $1::jsonb)
ON CONFLICT (id) DO NOTHING`;

export async function writeRecords(pool: Pool, entries: Array<{ request: RequestRecord; stages: StageRecord[] }>): Promise<void> {
  const rows = entries.map((e) => ({ ...e.request, stages: e.stages.map(({ webhook_id: _, ...stage }) => stage) }));
  await pool.query(SQL, [JSON.stringify(rows)]);
}
