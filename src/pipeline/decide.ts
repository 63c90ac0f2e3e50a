import { alertAgeOverLimit } from '../domain/alertAgeOverLimit.js';
import type { Decision, Signal } from '../domain/types.js';

export interface Policy {
  /** Upper-case symbols, with or without exchange prefix; empty = any symbol. */
  allowedSymbols: string[];
  /** 0 = no limit. */
  maxQuantity: number;
  /** quantity x price; 0 = no limit. */
  maxNotional: number;
  /** 0 = no limit. Needs an alert time in the message ({{timenow}}). */
  maxAlertAgeSeconds: number;
}

/** The trading policy: accept, or decline with a reason the trader can act on. Pure; `now` is passed in. */
export function decide(signal: Signal, policy: Policy, now: Date): Decision {
  const ageSeconds = alertAgeOverLimit(signal, policy.maxAlertAgeSeconds, now);
  if (ageSeconds !== undefined) {
    return {
      kind: 'decline',
      reason: 'stale_alert',
      message: `The alert is ${Math.round(ageSeconds)} s old; MAX_ALERT_AGE_SECONDS is ${policy.maxAlertAgeSeconds}.`,
    };
  }
  if (policy.allowedSymbols.length > 0) {
    const full = signal.exchange ? `${signal.exchange}:${signal.ticker}` : signal.ticker;
    if (!policy.allowedSymbols.includes(signal.ticker) && !policy.allowedSymbols.includes(full)) {
      return { kind: 'decline', reason: 'symbol_not_allowed', message: `${full} is not in ALLOWED_SYMBOLS.` };
    }
  }
  if (policy.maxQuantity > 0 && signal.quantity !== null && signal.quantity > policy.maxQuantity) {
    return {
      kind: 'decline',
      reason: 'quantity_above_limit',
      message: `Quantity ${signal.quantity} is above MAX_QUANTITY ${policy.maxQuantity}.`,
    };
  }
  if (policy.maxNotional > 0 && signal.quantity !== null && signal.price !== null) {
    const notional = signal.quantity * signal.price;
    if (notional > policy.maxNotional) {
      return {
        kind: 'decline',
        reason: 'notional_above_limit',
        message: `Notional ${notional} (quantity x price) is above MAX_NOTIONAL ${policy.maxNotional}.`,
      };
    }
  }
  return { kind: 'accept' };
}
