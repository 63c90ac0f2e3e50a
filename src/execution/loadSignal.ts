import type { Pool } from '../db/makePool.js';
import type { Action } from '../domain/types.js';
import type { ExecutableSignal } from './executor.js';
import type { SentEffect } from './sentEffect.js';

export interface StoredSignal extends ExecutableSignal {
  status: string;
  traceId: string | null;
  /** Which run of the signal this is: 0 the webhook's, then one more per operator retry. */
  retries: number;
  /** An order of an earlier attempt that went out but was not recorded (see saveUnrecordedEffect). */
  unrecordedEffect: SentEffect | null;
}

export async function loadSignal(pool: Pool, id: string): Promise<StoredSignal | undefined> {
  const { rows } = await pool.query(
    `SELECT id, webhook_id, ticker, exchange, action, quantity, price, strategy, interval, alert_time, alert_id, order_id,
            market_position, position_size, prev_market_position, prev_position_size, received_at, status, trace_id, retries,
            unrecorded_effect
       FROM signals WHERE id = $1`,
    [id],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    id: r.id,
    webhookId: r.webhook_id,
    ticker: r.ticker,
    exchange: r.exchange,
    action: r.action as Action,
    quantity: r.quantity,
    price: r.price,
    strategy: r.strategy,
    interval: r.interval,
    alertTime: r.alert_time,
    alertId: r.alert_id,
    orderId: r.order_id,
    marketPosition: r.market_position,
    positionSize: r.position_size,
    prevMarketPosition: r.prev_market_position,
    prevPositionSize: r.prev_position_size,
    receivedAt: r.received_at,
    status: r.status,
    traceId: r.trace_id,
    retries: r.retries,
    unrecordedEffect: r.unrecorded_effect,
  };
}
