import type { Action } from '../domain/types.js';
import { PermanentExecutionError } from './executor.js';

export interface Position {
  quantity: number;
  averagePrice: number;
  realizedPnl: number;
}

export interface Fill {
  /** Signed change of the position (+ bought, - sold). */
  delta: number;
  position: Position;
}

/** Floating-point noise below this is rounded away (prices and sizes here have far fewer digits). */
const round = (n: number) => Math.round(n * 1e10) / 1e10 + 0; // + 0 turns -0 into 0

/**
 * The paper book's arithmetic. A buy against a short covers it first (realising PnL on the covered part) and
 * opens a long with the rest; a sell mirrors that; a close flattens whatever is open. Average price is that
 * of the open position; 0 when flat.
 */
export function applyFill(current: Position, action: Action, quantity: number | null, price: number): Fill {
  let delta: number;
  if (action === 'close') {
    delta = -current.quantity;
  } else {
    if (quantity === null) throw new Error('quantity required for buy and sell');
    delta = action === 'buy' ? quantity : -quantity;
  }
  let { quantity: q, averagePrice: avg, realizedPnl: pnl } = current;
  let remaining = delta;
  // Closing part: the fill moves the position towards zero.
  if (q !== 0 && Math.sign(remaining) === -Math.sign(q)) {
    const closing = Math.min(Math.abs(remaining), Math.abs(q));
    const direction = Math.sign(q); // +1 long, -1 short
    pnl += closing * (price - avg) * direction;
    q -= closing * direction;
    remaining += closing * direction;
    if (round(q) === 0) {
      q = 0;
      avg = 0;
    }
  }
  // Opening part: what is left extends (or opens) a position in the fill's direction.
  if (remaining !== 0) {
    const newQ = q + remaining;
    avg = (Math.abs(q) * avg + Math.abs(remaining) * price) / Math.abs(newQ);
    q = newQ;
  }
  const fill = { delta: round(delta), position: { quantity: round(q), averagePrice: round(avg), realizedPnl: round(pnl) } };
  // Input bounds (INPUT_MAX_QUANTITY, INPUT_MAX_PRICE) keep every sum finite; a signal stored before them might
  // not, and Postgres' numeric would keep an Infinity in the book for good. Such a fill fails instead.
  if (![fill.delta, fill.position.quantity, fill.position.averagePrice, fill.position.realizedPnl].every(Number.isFinite)) {
    throw new PermanentExecutionError('The fill would make the position or its PnL infinite: the quantity or price is far too large.');
  }
  return fill;
}
