import type { Pool } from '../db/makePool.js';
import type { RequestRecord, StageRecord } from './spanToRecords.js';

/**
 * One statement, one round trip per batch, whatever its size: the rows travel as two JSON arrays and
 * jsonb_populate_recordset turns them into table rows. ON CONFLICT makes a retried batch harmless when a
 * timed-out write had in fact committed.
 */
const SQL = `
WITH r AS (
  INSERT INTO webhook_requests
  SELECT * FROM jsonb_populate_recordset(NULL::webhook_requests, $1::jsonb)
  ON CONFLICT (id) DO NOTHING
), s AS (
  INSERT INTO processing_stages
  SELECT * FROM jsonb_populate_recordset(NULL::processing_stages, $2::jsonb)
  ON CONFLICT (id) DO NOTHING
)
SELECT 1`;

export async function writeRecords(pool: Pool, requests: RequestRecord[], stages: StageRecord[]): Promise<void> {
  await pool.query(SQL, [JSON.stringify(requests), JSON.stringify(stages)]);
}
