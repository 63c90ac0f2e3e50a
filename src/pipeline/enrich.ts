import type { Action, Signal } from '../domain/types.js';
import { WebhookError } from '../http/errors.js';
import type { ValidAlert } from './validateAlert.js';

const ACTION_WORDS: Record<string, Action> = {
  buy: 'buy',
  long: 'buy',
  sell: 'sell',
  short: 'sell',
  close: 'close',
  exit: 'close',
  flat: 'close',
};
export const ACCEPTED_ACTION_WORDS = Object.keys(ACTION_WORDS);

/** Alert times before this are surely a mistake (a number in the wrong unit), not a real alert. */
const EARLIEST_ALERT_MS = Date.UTC(2000, 0, 1);

/** `{{timenow}}` is ISO 8601; numbers are epoch seconds or milliseconds (told apart by size). */
export function parseAlertTime(value: string | number): Date | undefined {
  let ms: number;
  if (typeof value === 'number' || /^\d+(\.\d+)?$/.test(value)) {
    const n = Number(value);
    ms = n < 1e11 ? n * 1000 : n;
  } else {
    ms = Date.parse(value);
  }
  if (!Number.isFinite(ms) || ms < EARLIEST_ALERT_MS) return undefined;
  return new Date(ms);
}

/** Splits `EXCHANGE:SYMBOL`, maps the action word, parses the alert time. */
export function enrich(alert: ValidAlert): Signal {
  const action = ACTION_WORDS[alert.action.toLowerCase()];
  if (!action) {
    throw new WebhookError(
      'WH_ERR_UNKNOWN_ACTION',
      `action "${alert.action}" is not understood: use one of ${ACCEPTED_ACTION_WORDS.join(', ')} (any case).`,
      { details: { field: 'action', accepted: ACCEPTED_ACTION_WORDS } },
    );
  }
  let exchange = alert.exchange ? alert.exchange.toUpperCase() : null;
  let ticker = alert.ticker;
  const colon = ticker.lastIndexOf(':');
  if (colon >= 0) {
    const prefix = ticker.slice(0, colon);
    ticker = ticker.slice(colon + 1);
    if (prefix) exchange = prefix.toUpperCase();
    if (!ticker) {
      throw new WebhookError('WH_ERR_INVALID_PAYLOAD', `ticker "${alert.ticker}" has no symbol after the exchange prefix.`, {
        details: { fields: [{ field: 'ticker', message: 'has no symbol after ":"' }] },
      });
    }
  }
  let alertTime: Date | null = null;
  if (alert.time !== undefined) {
    const parsed = parseAlertTime(alert.time);
    if (!parsed) {
      throw new WebhookError(
        'WH_ERR_INVALID_PAYLOAD',
        `time ${JSON.stringify(alert.time)} is not a date: use {{timenow}} (ISO 8601) or epoch seconds/milliseconds.`,
        { details: { fields: [{ field: 'time', message: 'is not a date' }] } },
      );
    }
    alertTime = parsed;
  }
  return {
    ticker: ticker.toUpperCase(),
    exchange,
    action,
    quantity: alert.quantity ?? null,
    price: alert.price ?? null,
    strategy: alert.strategy || null,
    interval: alert.interval || null,
    alertTime,
    alertId: alert.id || null,
    orderId: alert.orderId || null,
    marketPosition: alert.marketPosition || null,
    positionSize: alert.positionSize ?? null,
    extra: alert.extra,
  };
}
