import type { Pool } from '../db/makePool.js';

export interface PositionRow {
  ticker: string;
  quantity: number;
  average_price: number;
  realized_pnl: number;
  last_signal_id: string | null;
  updated_at: Date;
}

export async function listPositions(pool: Pool): Promise<PositionRow[]> {
  const { rows } = await pool.query<PositionRow>(
    'SELECT ticker, quantity, average_price, realized_pnl, last_signal_id, updated_at FROM positions ORDER BY ticker',
  );
  return rows;
}

export function positionJson(row: PositionRow) {
  return {
    ticker: row.ticker,
    quantity: row.quantity,
    side: row.quantity > 0 ? 'long' : row.quantity < 0 ? 'short' : 'flat',
    averagePrice: row.average_price,
    realizedPnl: row.realized_pnl,
    lastSignalId: row.last_signal_id,
    updatedAt: row.updated_at.toISOString(),
  };
}
