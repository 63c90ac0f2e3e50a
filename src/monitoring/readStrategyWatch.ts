import type { Pool } from '../db/makePool.js';
import { uuidv7Floor } from './uuidv7Floor.js';

/** Fewer intervals than this teach nothing about a strategy's rhythm: no usual interval is reported. */
export const MIN_INTERVALS_TO_LEARN = 5;

export interface StrategyWatch {
  strategies: Array<{ strategy: string; lastSignalSeconds: number; usualIntervalSeconds: number | null; openGaps: number }>;
  /** Open gaps of strategies not in `strategies` (beyond the label bound). */
  otherOpenGaps: number;
  /** Strategies seen in the window but not in `strategies`. */
  leftOut: number;
}

/**
 * What /metrics reports per strategy, read at scrape time from the two small tables the signal watch keeps:
 * the `maxStrategies` most recently active strategies, and what is left out. Gaps count while the alert that
 * revealed them is inside the lookback window.
 */
export async function readStrategyWatch(pool: Pool, options: { maxStrategies: number; lookbackMs: number; now?: Date }): Promise<StrategyWatch> {
  const since = uuidv7Floor(new Date((options.now ?? new Date()).getTime() - options.lookbackMs));
  const { rows } = await pool.query(
    `WITH ranked AS (
       SELECT strategy, last_signal_at, usual_interval_seconds, intervals,
              row_number() OVER (ORDER BY last_signal_at DESC, strategy) AS rank
         FROM strategy_activity
     ), gaps AS (
       SELECT strategy, count(*)::int AS open FROM position_gaps
        WHERE closed_at IS NULL AND after_signal_id >= $1::uuid
        GROUP BY strategy
     )
     SELECT COALESCE(r.strategy, g.strategy) AS strategy, r.rank,
            EXTRACT(EPOCH FROM r.last_signal_at)::float8 AS last_signal,
            CASE WHEN r.intervals >= $2 THEN r.usual_interval_seconds END AS usual,
            COALESCE(g.open, 0) AS open
       FROM ranked r FULL JOIN gaps g USING (strategy)`,
    [since, MIN_INTERVALS_TO_LEARN],
  );
  const watch: StrategyWatch = { strategies: [], otherOpenGaps: 0, leftOut: 0 };
  for (const r of rows) {
    if (r.rank !== null && Number(r.rank) <= options.maxStrategies) {
      watch.strategies.push({ strategy: r.strategy, lastSignalSeconds: r.last_signal, usualIntervalSeconds: r.usual, openGaps: r.open });
    } else {
      watch.otherOpenGaps += r.open;
      if (r.rank !== null) watch.leftOut += 1;
    }
  }
  return watch;
}
