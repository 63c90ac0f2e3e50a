import { pino } from 'pino';
import { makePool, type Pool } from '../../src/db/makePool.js';
import { createTestDatabase, type TestDatabase } from './testDatabase.js';

/** A fresh database and a pool on it (makePool's options), for `run`; both gone after. */
export async function withTestPool<T>(
  options: { max: number; timeoutMs: number; minOpen?: number },
  run: (pool: Pool, db: TestDatabase) => Promise<T>,
): Promise<T> {
  const db = await createTestDatabase();
  const pool = makePool({ connectionString: db.url, ...options, logger: pino({ level: 'silent' }) });
  try {
    return await run(pool, db);
  } finally {
    await pool.end();
    await db.drop();
  }
}
