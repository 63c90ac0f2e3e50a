import type { Pool } from '../db/makePool.js';
import { uuidv7Floor } from './uuidv7Floor.js';

/**
 * Learns each strategy's rhythm from its own history: when it last sent an alert, and its usual interval, the
 * median time between two of its alerts (by receipt) over the lookback window. The median, not the mean: a
 * strategy quiet every night and weekend still has the interval of its trading hours. A strategy with no
 * alert in the window is forgotten (it was stopped; its silence is not news). Alerts without a strategy name
 * are one strategy, ''.
 */
const SQL = `
WITH recent AS (
  SELECT COALESCE(strategy, '') AS strategy, received_at,
         EXTRACT(EPOCH FROM received_at - lag(received_at) OVER (PARTITION BY COALESCE(strategy, '') ORDER BY received_at, id))::float8 AS gap
    FROM signals
   WHERE id >= $1::uuid
), stats AS (
  SELECT strategy, max(received_at) AS last_signal_at,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY gap) FILTER (WHERE gap IS NOT NULL) AS usual,
         count(gap)::int AS intervals
    FROM recent
   GROUP BY strategy
), upserted AS (
  INSERT INTO strategy_activity (strategy, last_signal_at, usual_interval_seconds, intervals, refreshed_at)
  SELECT strategy, last_signal_at, usual, intervals, now() FROM stats
  ON CONFLICT (strategy) DO UPDATE
     SET last_signal_at = EXCLUDED.last_signal_at, usual_interval_seconds = EXCLUDED.usual_interval_seconds,
         intervals = EXCLUDED.intervals, refreshed_at = EXCLUDED.refreshed_at
  RETURNING 1
), forgotten AS (
  DELETE FROM strategy_activity a WHERE NOT EXISTS (SELECT 1 FROM stats s WHERE s.strategy = a.strategy)
  RETURNING 1
)
SELECT (SELECT count(*) FROM upserted)::int AS strategies, (SELECT count(*) FROM forgotten)::int AS forgotten`;

export async function refreshStrategyActivity(pool: Pool, options: { lookbackMs: number; now?: Date }): Promise<{ strategies: number; forgotten: number }> {
  const since = uuidv7Floor(new Date((options.now ?? new Date()).getTime() - options.lookbackMs));
  const { rows } = await pool.query(SQL, [since]);
  return rows[0];
}
