import type { Pool } from '../db/makePool.js';
import { sqlStateOf } from '../db/sqlStateOf.js';

/** Rows deleted per statement: small enough that a prune never holds locks for long. */
const BATCH = 5_000;

const OLDEST = `SELECT id FROM webhook_requests WHERE created_at < $1 LIMIT ${BATCH}`;
const DELETE_COUNTING_STAGES = `DELETE FROM webhook_requests WHERE id IN (${OLDEST}) RETURNING json_array_length(stages::json) AS stages`;
const DELETE = `DELETE FROM webhook_requests WHERE id IN (${OLDEST})`;

/** Data exceptions (SQLSTATE class 22): a row's stages that are not a JSON array. */
const isDataException = (err: unknown) => sqlStateOf(err)?.startsWith('22') === true;

export interface Pruned {
  requests: number;
  stages: number;
  /** Webhooks deleted whose stages could not be counted (text that is not a JSON array, which the service never writes). */
  uncountedStages: number;
}

/**
 * Deletes monitoring records older than `olderThan`, in small batches. A webhook's stages live in its row
 * (migration 0004), so they go with it. Returns how many webhooks and stages went. Stages are text since migration
 * 0012: a batch holding a row whose stages are not JSON is deleted without counting them, so that one bad row
 * can never stop retention (every later run would meet it again, and the table would grow for good).
 */
export async function pruneRecords(pool: Pool, olderThan: Date): Promise<Pruned> {
  const deleted: Pruned = { requests: 0, stages: 0, uncountedStages: 0 };
  for (;;) {
    let n: number;
    try {
      const result = await pool.query<{ stages: number }>(DELETE_COUNTING_STAGES, [olderThan]);
      n = result.rowCount ?? 0;
      deleted.stages += result.rows.reduce((sum, r) => sum + r.stages, 0);
    } catch (err) {
      if (!isDataException(err)) throw err;
      // The statement failed whole: nothing was deleted. The same batch again, without counting.
      n = (await pool.query(DELETE, [olderThan])).rowCount ?? 0;
      deleted.uncountedStages += n;
    }
    deleted.requests += n;
    if (n < BATCH) break;
  }
  return deleted;
}
