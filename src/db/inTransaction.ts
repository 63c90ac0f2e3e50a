import type pg from 'pg';
import { toError } from '../domain/errors.js';
import type { Pool } from './makePool.js';
import { provesRollback } from './queryKnowingOutcome.js';

/**
 * Runs `work` in a transaction on a connection of its own and commits it. When Postgres answered with an error the
 * session is usable once rolled back, and goes back to the pool. Anything else (no answer within the client's bound,
 * a lost connection) leaves a session that may still be running the statement: it is closed, not handed back, or
 * the next query from the pool (a signal batch) would wait behind it.
 */
export async function inTransaction<T>(pool: Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    if (provesRollback(err)) await client.query('ROLLBACK').catch((failed: unknown) => void (broken = toError(failed)));
    else broken = toError(err);
    throw err;
  } finally {
    client.release(broken);
  }
}
