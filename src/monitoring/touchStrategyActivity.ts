import type { Pool } from '../db/makePool.js';
import { uuidv7Floor } from './uuidv7Floor.js';

/**
 * Between two full refreshes (refreshStrategyActivity), the watch's cheap run: each strategy's last alert time
 * from the signals received since `since` only, read through the primary key. A strategy not known yet gets its
 * row (no usual interval until the next full refresh learns one). Usual intervals and forgotten strategies are
 * left to the full refresh: a median over a week moves little in a quarter of an hour, and reading the week's
 * signals every minute was half the watch's cost (440 ms of Postgres CPU a run at 300,000 signals, against 0.45
 * for this; bench/signalWatchCost.ts). A run that reads an older slice (another process, the overlap) never moves
 * a time backwards.
 */
const SQL = `
WITH latest AS (
  SELECT COALESCE(strategy, '') AS strategy, max(received_at) AS last_signal_at
    FROM signals
   WHERE id >= $1::uuid
   GROUP BY 1
), touched AS (
  INSERT INTO strategy_activity AS a (strategy, last_signal_at, usual_interval_seconds, intervals)
  SELECT strategy, last_signal_at, NULL, 0 FROM latest
  ON CONFLICT (strategy) DO UPDATE SET last_signal_at = EXCLUDED.last_signal_at
   WHERE a.last_signal_at < EXCLUDED.last_signal_at
  RETURNING 1
)
SELECT (SELECT count(*) FROM touched)::int AS touched`;

export async function touchStrategyActivity(pool: Pool, options: { since: Date }): Promise<{ touched: number }> {
  const { rows } = await pool.query(SQL, [uuidv7Floor(options.since)]);
  return rows[0];
}
