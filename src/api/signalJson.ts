/** A `signals` row as the API shows it: camelCase, numbers as JSON numbers, times as ISO strings. */
export interface SignalRow {
  id: string;
  webhook_id: string;
  ticker: string;
  exchange: string | null;
  action: string;
  quantity: number | null;
  price: number | null;
  strategy: string | null;
  interval: string | null;
  alert_time: Date | null;
  alert_id: string | null;
  order_id: string | null;
  market_position: string | null;
  position_size: number | null;
  prev_market_position: string | null;
  prev_position_size: number | null;
  extra: Record<string, unknown>;
  status: string;
  decline_reason: string | null;
  attempts: number;
  retries: number;
  last_error: string | null;
  trace_id: string | null;
  received_at: Date;
  updated_at: Date;
  executing_at: Date | null;
  executed_at: Date | null;
  failed_at: Date | null;
  /** An order an attempt sent and could not record (SentEffect), kept for the next attempt or an operator. */
  unrecorded_effect: unknown;
}

export const SIGNAL_COLUMNS = `id, webhook_id, ticker, exchange, action, quantity, price, strategy, interval, alert_time,
  alert_id, order_id, market_position, position_size, prev_market_position, prev_position_size, extra, status, decline_reason, attempts, retries, last_error, trace_id,
  received_at, updated_at, executing_at, executed_at, failed_at, unrecorded_effect`;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function signalJson(row: SignalRow) {
  return {
    id: row.id,
    webhookId: row.webhook_id,
    ticker: row.ticker,
    exchange: row.exchange,
    action: row.action,
    quantity: row.quantity,
    price: row.price,
    strategy: row.strategy,
    interval: row.interval,
    alertTime: iso(row.alert_time),
    alertId: row.alert_id,
    orderId: row.order_id,
    marketPosition: row.market_position,
    positionSize: row.position_size,
    prevMarketPosition: row.prev_market_position,
    prevPositionSize: row.prev_position_size,
    status: row.status,
    declineReason: row.decline_reason,
    attempts: row.attempts,
    retries: row.retries,
    lastError: row.last_error,
    traceId: row.trace_id,
    receivedAt: iso(row.received_at),
    updatedAt: iso(row.updated_at),
    executingAt: iso(row.executing_at),
    executedAt: iso(row.executed_at),
    failedAt: iso(row.failed_at),
    unrecordedOrder: row.unrecorded_effect ?? null,
    extra: row.extra,
  };
}
