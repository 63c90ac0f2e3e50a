import type { Pool } from '../db/makePool.js';
import { EXECUTION_COLUMNS, type ExecutionRow } from './executionJson.js';

export interface ExecutionFilter {
  signalId?: string;
  ticker?: string;
  outcome?: string;
  cursor?: string;
  limit: number;
}

export async function listExecutions(pool: Pool, f: ExecutionFilter): Promise<ExecutionRow[]> {
  const result = await pool.query<ExecutionRow>(
    `SELECT ${EXECUTION_COLUMNS}
       FROM executions
      WHERE ($1::uuid IS NULL OR signal_id = $1)
        AND ($2::text IS NULL OR ticker = $2)
        AND ($3::text IS NULL OR outcome = $3)
        AND ($4::uuid IS NULL OR id < $4)
      ORDER BY id DESC
      LIMIT $5`,
    [f.signalId ?? null, f.ticker ?? null, f.outcome ?? null, f.cursor ?? null, f.limit],
  );
  return result.rows;
}
