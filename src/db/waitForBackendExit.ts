import type { Pool } from './makePool.js';

const TERMINATE_SQL = 'SELECT pg_terminate_backend($1)';
const ALIVE_SQL = 'SELECT EXISTS (SELECT FROM pg_stat_activity WHERE pid = $1) AS alive';

/** How often the session is looked for while it ends. */
const POLL_MS = 10;

/**
 * Ends a Postgres session (ours: a role may end its own sessions) and resolves once it is gone, so that whatever
 * its transaction was doing is settled: committed or rolled back, for good. Rejects when it is still there at
 * `deadline` (performance.now() ms) or when Postgres cannot be asked.
 *
 * A session in the middle of a commit ends only once the commit is through: one waiting for a synchronous standby
 * stops waiting and keeps its commit (Postgres warns "the transaction has already committed locally"); one waiting
 * on a lock before it committed rolls back.
 */
export async function waitForBackendExit(pool: Pool, pid: number, deadline: number): Promise<void> {
  // A session already gone (its connection closed) makes pg_terminate_backend warn and answer false: then it is
  // only looked for.
  await pool.query(TERMINATE_SQL, [pid]);
  for (;;) {
    const { rows } = await pool.query<{ alive: boolean }>(ALIVE_SQL, [pid]);
    if (!rows[0]?.alive) return;
    if (performance.now() + POLL_MS > deadline) throw new Error(`Postgres session ${pid} was still running its transaction when the time to check it ran out`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
