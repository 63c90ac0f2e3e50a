import type { Pool } from '../db/makePool.js';
import { inTransaction } from '../db/inTransaction.js';
import { stuckSignalCondition } from '../execution/stuckSignalCondition.js';

// took_ms: the statement's own time in Postgres (from its start to its result), without the round trips around it.
const COUNT_STUCK_SQL = `SELECT count(*)::int AS stuck, (array_agg(s.id ORDER BY s.id))[1] AS oldest,
        extract(epoch FROM clock_timestamp() - statement_timestamp())::float8 * 1000 AS took_ms
   FROM signals s
  WHERE ${stuckSignalCondition('$1', '$2')}`;

/**
 * Signals that will not settle by themselves (see stuckSignalCondition): `queued` or `executing`, unchanged for
 * `afterSeconds`, with no job of theirs waiting or running. A signal whose job waits for its retry, or for a
 * worker, is not stuck: the queue check sees it.
 *
 * Its cost grows with the signals waiting: every one unchanged for `afterSeconds` is looked up among the jobs. With
 * 250,000 of them waiting (the bench's database after a run without a worker) it takes 270-290 ms (jobs without a
 * queue; 390 ms of Postgres CPU with a queue per ticker, as the service adds them: bench/signalWatchCost.ts), the
 * same with Postgres's parallel workers as without: they only spread it over three processes, which on two cores
 * took both from the service for that time. So it runs in one process (parallel workers off for its transaction). Returns
 * the statement's time in Postgres too (`tookMs`), by which the signal watch spaces its counts.
 */
export async function countStuckSignals(
  pool: Pool,
  afterSeconds: number,
  liveAttemptSeconds: number,
): Promise<{ stuck: number; oldestSignalId: string | null; tookMs: number }> {
  return inTransaction(pool, async (client) => {
    await client.query('SET LOCAL max_parallel_workers_per_gather = 0');
    const { rows } = await client.query(COUNT_STUCK_SQL, [afterSeconds, liveAttemptSeconds]);
    return { stuck: rows[0].stuck, oldestSignalId: rows[0].oldest, tookMs: rows[0].took_ms };
  });
}
