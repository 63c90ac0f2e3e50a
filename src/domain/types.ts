/**
 * Domain types shared by the pipeline, execution, telemetry and the API.
 *
 * Glossary
 * - Alert: what TradingView sent, after the body was read and field aliases were resolved
 *   (`symbol` -> ticker, `order_action` -> action, ...). Values are still as the sender typed them.
 * - Signal: the normalised trading intent made from an alert (exchange split off the ticker, action mapped to
 *   buy|sell|close, numbers coerced). A signal is business data: it is written before we answer 200.
 * - Decision: the policy's verdict on a signal: accept (execute it) or decline (keep it, do not execute).
 * - Duplicate: an alert whose dedupe key was already seen (explicit alert id, or the same normalised alert
 *   within the dedupe window). It is answered 200 with the original signal id and never executed again.
 * - Webhook: one HTTP request to the endpoint, accepted or not. Every webhook gets a time-ordered id (UUIDv7)
 *   that the answer, the logs, the monitoring records and the trace all carry.
 * - Stage: one step of handling a webhook, named as in the seed document: received, enriching, deciding,
 *   executing, then completed or failed.
 * - Execution: the result of handing a signal to an executor (paper or forward) in the background.
 */

export const ACTIONS = ['buy', 'sell', 'close'] as const;
export type Action = (typeof ACTIONS)[number];

export const STAGES = ['received', 'enriching', 'deciding', 'executing', 'completed', 'failed'] as const;
export type Stage = (typeof STAGES)[number];

export const SIGNAL_STATUSES = ['queued', 'executing', 'executed', 'failed', 'declined'] as const;
export type SignalStatus = (typeof SIGNAL_STATUSES)[number];

export const DECLINE_REASONS = [
  'stale_alert',
  'symbol_not_allowed',
  'quantity_above_limit',
  'notional_above_limit',
] as const;
export type DeclineReason = (typeof DECLINE_REASONS)[number];

/** Outcome of a webhook as the monitoring records and metrics see it (the seed's status field). */
export const WEBHOOK_STATUSES = ['success', 'rejected', 'failed'] as const;
export type WebhookStatus = (typeof WEBHOOK_STATUSES)[number];

/** Fields of an alert after alias resolution; every value is still raw (string, number, ...). */
export interface Alert {
  ticker?: unknown;
  action?: unknown;
  quantity?: unknown;
  price?: unknown;
  time?: unknown;
  id?: unknown;
  strategy?: unknown;
  interval?: unknown;
  exchange?: unknown;
  marketPosition?: unknown;
  positionSize?: unknown;
  /** `{{strategy.prev_market_position}}`: the position before this order, as the sender saw it. */
  prevMarketPosition?: unknown;
  /** `{{strategy.prev_market_position_size}}`: its absolute size. */
  prevPositionSize?: unknown;
  orderId?: unknown;
  /** Every other field the sender included, kept for the record (secrets removed). */
  extra: Record<string, unknown>;
}

/** A normalised signal, ready for the decision and for storage. */
export interface Signal {
  ticker: string;
  exchange: string | null;
  action: Action;
  quantity: number | null;
  price: number | null;
  strategy: string | null;
  interval: string | null;
  alertTime: Date | null;
  alertId: string | null;
  orderId: string | null;
  marketPosition: string | null;
  positionSize: number | null;
  /** The position before this alert's order, as TradingView saw it: compared with the last one received (gaps). */
  prevMarketPosition: string | null;
  prevPositionSize: number | null;
  extra: Record<string, unknown>;
}

export type Decision = { kind: 'accept' } | { kind: 'decline'; reason: DeclineReason; message: string };

/** The statuses of a 200 answer, as the sender sees them (an error answer carries a WH_ERR_ code instead). */
export const ANSWER_STATUSES = ['accepted', 'duplicate', 'declined'] as const;

/** What the endpoint answers with 200. */
export interface AcceptedAnswer {
  status: (typeof ANSWER_STATUSES)[number];
  webhookId: string;
  signalId: string;
  reason?: DeclineReason;
}
