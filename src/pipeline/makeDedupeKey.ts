import { createHash } from 'node:crypto';
import type { Signal } from '../domain/types.js';

export interface DedupeKey {
  key: string;
  /** End of the window in which the same key is a duplicate; null = for ever (explicit alert ids). */
  until: Date | null;
}

/**
 * An alert with an explicit id is the same alert for ever; its alert time is part of the key because
 * templates often put `{{strategy.order.id}}` there, which names the order ("Long") and repeats every trade,
 * while a TradingView resend repeats the same `{{timenow}}`. Without an id, the same normalised alert
 * received within `windowSeconds` of another is a duplicate.
 */
export function makeDedupeKey(signal: Signal, receivedAt: Date, windowSeconds: number): DedupeKey {
  if (signal.alertId) {
    return { key: `id:${signal.alertId}|${signal.alertTime?.toISOString() ?? ''}`, until: null };
  }
  const normalised = JSON.stringify([
    signal.exchange,
    signal.ticker,
    signal.action,
    signal.quantity,
    signal.price,
    signal.strategy,
    signal.interval,
    signal.alertTime?.toISOString() ?? null,
    signal.orderId,
    signal.marketPosition,
    signal.positionSize,
  ]);
  return {
    key: 'h:' + createHash('sha256').update(normalised).digest('base64url'),
    until: new Date(receivedAt.getTime() + windowSeconds * 1000),
  };
}
