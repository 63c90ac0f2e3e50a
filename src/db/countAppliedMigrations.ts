import type { Pool } from './makePool.js';

/** How many of our migrations the database has applied (node-pg-migrate's pgmigrations table). */
export async function countAppliedMigrations(pool: Pool): Promise<number> {
  const result = await pool.query<{ applied: number }>('SELECT count(*)::int AS applied FROM pgmigrations');
  return result.rows[0]?.applied ?? 0;
}
