import type { Pool } from '../db/makePool.js';

export interface GapFilter {
  state: 'open' | 'closed' | 'all';
  strategy?: string;
  ticker?: string;
  limit: number;
}

/** Recorded gaps, newest first (by the time of the alert that revealed them). */
export async function listPositionGaps(pool: Pool, f: GapFilter) {
  const { rows } = await pool.query(
    `SELECT before_signal_id, after_signal_id, strategy, ticker, last_position, last_position_size, prev_position,
            prev_position_size, window_start, window_end, detected_at, closed_at
       FROM position_gaps
      WHERE ($1 = 'all' OR ($1 = 'open') = (closed_at IS NULL))
        AND ($2::text IS NULL OR strategy = $2)
        AND ($3::text IS NULL OR ticker = $3)
      ORDER BY window_end DESC, after_signal_id DESC
      LIMIT $4`,
    [f.state, f.strategy ?? null, f.ticker ?? null, f.limit],
  );
  return rows.map((r) => ({
    strategy: r.strategy === '' ? null : r.strategy,
    ticker: r.ticker,
    state: r.closed_at ? 'closed' : 'open',
    lastReceived: { signalId: r.before_signal_id, position: r.last_position, positionSize: r.last_position_size, at: r.window_start.toISOString() },
    senderSaysBefore: { signalId: r.after_signal_id, position: r.prev_position, positionSize: r.prev_position_size, at: r.window_end.toISOString() },
    window: { from: r.window_start.toISOString(), to: r.window_end.toISOString() },
    detectedAt: r.detected_at.toISOString(),
    closedAt: r.closed_at ? r.closed_at.toISOString() : null,
  }));
}
