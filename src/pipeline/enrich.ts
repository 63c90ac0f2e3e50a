import type { Action, Signal } from '../domain/types.js';
import { WebhookError } from '../domain/errors.js';
import { parseDecimal } from './parseDecimal.js';
import type { ValidAlert } from './validateAlert.js';

// A Map, not an object literal: a lookup of "constructor" or "__proto__" in an object finds Object.prototype's
// members, which became the signal's action and failed its insert (a 503 for a sender's typo).
const ACTION_WORDS = new Map<string, Action>([
  ['buy', 'buy'],
  ['long', 'buy'],
  ['sell', 'sell'],
  ['short', 'sell'],
  ['close', 'close'],
  ['exit', 'close'],
  ['flat', 'close'],
]);
export const ACCEPTED_ACTION_WORDS = [...ACTION_WORDS.keys()];

/** Alert times before this are surely a mistake (a number in the wrong unit), not a real alert. */
const EARLIEST_ALERT_MS = Date.UTC(2000, 0, 1);
/**
 * The last instant with a 4-digit year. Past it a Date prints as `+010000-...`, which Postgres does not read
 * (a 503), and past 8.64e15 ms it is an Invalid Date whose toISOString throws (a 500).
 */
const LATEST_ALERT_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** `{{timenow}}` is ISO 8601; numbers are epoch seconds or milliseconds (told apart by size). */
export function parseAlertTime(value: string | number): Date | undefined {
  // Any numeric text is a number ("-1" and "1e20" too): Date.parse would read "-1" as a date in 2001.
  const n = typeof value === 'number' ? value : parseDecimal(value);
  const ms = n === undefined ? Date.parse(value as string) : n < 1e11 ? n * 1000 : n;
  if (!Number.isFinite(ms) || ms < EARLIEST_ALERT_MS || ms > LATEST_ALERT_MS) return undefined;
  return new Date(ms);
}

/** Splits `EXCHANGE:SYMBOL`, maps the action word, parses the alert time. */
export function enrich(alert: ValidAlert): Signal {
  const action = ACTION_WORDS.get(alert.action.toLowerCase());
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
        `time ${JSON.stringify(alert.time)} is not a date between the years 2000 and 9999: use {{timenow}} (ISO 8601) or epoch seconds/milliseconds.`,
        { details: { fields: [{ field: 'time', message: 'is not a date between the years 2000 and 9999' }] } },
      );
    }
    alertTime = parsed;
  }
  // A buy or sell of 0 (or -0) is no order: executed, it would record a fill of nothing.
  if (action !== 'close' && alert.quantity !== undefined && !(alert.quantity > 0)) {
    throw new WebhookError('WH_ERR_INVALID_PAYLOAD', `quantity must be more than 0 for ${action}.`, {
      details: { fields: [{ field: 'quantity', message: `must be more than 0 for ${action}` }] },
    });
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
    prevMarketPosition: alert.prevMarketPosition || null,
    prevPositionSize: alert.prevPositionSize ?? null,
    extra: alert.extra,
  };
}
