import type { Pool } from '../db/makePool.js';
import { inTransaction } from '../db/inTransaction.js';
import { uuidv7Floor } from './uuidv7Floor.js';

/** An arbitrary constant naming "position gap detection in progress" among advisory locks. */
const DETECTION_LOCK_ID = 7_240_913_715;

/**
 * Finds the alerts TradingView never delivered, from the ones it did. The alerts of one strategy and ticker
 * that carry a position (`{{strategy.market_position}}`) form a chain, ordered by the alert's own time (its
 * receipt time when it has none). Each alert that also says which position came before its order
 * (`{{strategy.prev_market_position}}`, `{{strategy.prev_market_position_size}}`) must find that position in
 * the alert before it; when it does not, at least one alert in between never arrived: a gap.
 *
 * One statement, off the request path: LAG over the chain finds the gaps, the new ones are recorded, and the
 * recorded ones that are no longer in the chain are closed (an alert that arrived late, resent or delayed,
 * sits between the two by its alert time and fills the gap). Only gaps whose both alerts are inside the
 * lookback window are closed: beyond it the chain is not read. Sizes are compared when both are present:
 * `position_size` is signed (negative when short), the previous size is absolute.
 *
 * Runs under an advisory lock, so that several processes sharing the database take turns.
 */
const SQL = `
WITH chain AS (
  SELECT id, COALESCE(strategy, '') AS strategy, ticker, COALESCE(alert_time, received_at) AS at,
         lower(prev_market_position) AS prev_position, prev_position_size,
         lag(id) OVER w AS before_id,
         lag(lower(market_position)) OVER w AS last_position,
         lag(position_size) OVER w AS last_size,
         lag(COALESCE(alert_time, received_at)) OVER w AS before_at
    FROM signals
   WHERE id >= $1::uuid AND market_position IS NOT NULL
  WINDOW w AS (PARTITION BY COALESCE(strategy, ''), ticker ORDER BY COALESCE(alert_time, received_at), id)
), found AS (
  SELECT * FROM chain
   WHERE before_id IS NOT NULL AND prev_position IS NOT NULL
     AND (prev_position IS DISTINCT FROM last_position
          OR (prev_position_size IS NOT NULL AND last_size IS NOT NULL AND prev_position_size <> abs(last_size)))
), opened AS (
  INSERT INTO position_gaps (before_signal_id, after_signal_id, strategy, ticker, last_position, last_position_size,
                             prev_position, prev_position_size, window_start, window_end)
  SELECT before_id, id, strategy, ticker, last_position, last_size, prev_position, prev_position_size, before_at, at
    FROM found
  ON CONFLICT (before_signal_id, after_signal_id) DO UPDATE SET closed_at = NULL, detected_at = now()
   WHERE position_gaps.closed_at IS NOT NULL
  RETURNING 1
), closed AS (
  UPDATE position_gaps g SET closed_at = now()
   WHERE g.closed_at IS NULL AND g.before_signal_id >= $1::uuid
     AND NOT EXISTS (SELECT 1 FROM found f WHERE f.before_id = g.before_signal_id AND f.id = g.after_signal_id)
  RETURNING 1
)
SELECT (SELECT count(*) FROM found)::int AS open, (SELECT count(*) FROM opened)::int AS opened,
       (SELECT count(*) FROM closed)::int AS closed`;

export interface GapDetection {
  /** Gaps in the chain now (within the lookback window). */
  open: number;
  /** Of them, found (or reopened) by this run. */
  opened: number;
  /** Recorded gaps that a late alert has filled since the last run. */
  closed: number;
}

/** Detects gaps over the signals received in the `lookbackMs` before `now`. */
export async function detectPositionGaps(pool: Pool, options: { lookbackMs: number; now?: Date }): Promise<GapDetection> {
  const since = uuidv7Floor(new Date((options.now ?? new Date()).getTime() - options.lookbackMs));
  return inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [DETECTION_LOCK_ID]);
    const { rows } = await client.query(SQL, [since]);
    return rows[0] as GapDetection;
  });
}
