import { type Link, ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, type Tracer } from '@opentelemetry/api';
import type { Pool } from '../db/makePool.js';
import { RETRY_SIGNAL_SPAN } from '../domain/executeSignalJob.js';
import { toError, WebhookError } from '../domain/errors.js';
import type { Action, Decision } from '../domain/types.js';
import { declineFailedSignal } from '../execution/declineFailedSignal.js';
import { requeueFailedSignal } from '../execution/requeueFailedSignal.js';
import { listStageRecords } from '../monitoring/getWebhookRecord.js';
import { decide, type Policy } from '../pipeline/decide.js';
import { ATTR } from '../telemetry/attributes.js';
import { traceparentOf } from '../telemetry/webhookTrace.js';
import { getSignal } from './getSignal.js';
import type { SignalRow } from './signalJson.js';

export interface RetryDeps {
  pool: Pool;
  policy: Policy;
  tracer: Tracer;
  /** EXECUTION_MAX_ATTEMPTS: a retry is a new run with the same attempts as the first. */
  maxAttempts: number;
}

export interface RetryOutcome {
  signalId: string;
  ticker: string;
  action: string;
  failedAt: string | null;
  /** Why the signal had failed. */
  previousError: string | null;
  /** queued: a new run was started; declined: the policy refuses it now. With dryRun, what would happen. */
  result: 'queued' | 'declined';
  reason?: string;
  message?: string;
  /** The run this retry started (1 for the first retry); absent in a dry run. */
  retry?: number;
  /** The retry's own trace (linked to the webhook's), in which the new run executes; absent in a dry run. */
  traceId?: string;
}

/**
 * The policy at retry time. An alert without its own time counts as sent when it was received: at receipt that
 * was "now", but an hour later it is an hour old, and MAX_ALERT_AGE_SECONDS must see that.
 */
function decideAgain(row: SignalRow, policy: Policy, now: Date): Decision {
  const signal = {
    ticker: row.ticker,
    exchange: row.exchange,
    action: row.action as Action,
    quantity: row.quantity,
    price: row.price,
    strategy: row.strategy,
    interval: row.interval,
    alertTime: row.alert_time ?? row.received_at,
    alertId: row.alert_id,
    orderId: row.order_id,
    marketPosition: row.market_position,
    positionSize: row.position_size,
    prevMarketPosition: row.prev_market_position,
    prevPositionSize: row.prev_position_size,
    extra: row.extra,
  };
  return decide(signal, policy, now);
}

/**
 * Runs a failed signal again after the cause is fixed (a broker outage): the policy is checked again (a signal
 * too old to trade now is declined, not executed), and the signal gets a new run of the same job on its symbol's
 * queue. The signal keeps its id, so the broker sees the same Idempotency-Key, and it can still have only one
 * execution with an effect. Each retry is recorded (signal_retries) and traced: a new trace, linked to the
 * webhook's, which the new run's execution span joins.
 */
export async function retrySignal(
  deps: RetryDeps,
  signalId: string,
  options: { dryRun: boolean; clientAddress: string | null; now?: Date },
): Promise<RetryOutcome> {
  const row = await getSignal(deps.pool, signalId);
  if (!row) throw new WebhookError('WH_ERR_NOT_FOUND', `No signal ${signalId}.`);
  if (row.status !== 'failed') {
    throw new WebhookError('WH_ERR_CONFLICT', `Signal ${signalId} is ${row.status}: only a failed signal can be retried.`);
  }
  const decision = decideAgain(row, deps.policy, options.now ?? new Date());
  const outcome: RetryOutcome = {
    signalId,
    ticker: row.ticker,
    action: row.action,
    failedAt: row.failed_at?.toISOString() ?? null,
    previousError: row.last_error,
    result: decision.kind === 'accept' ? 'queued' : 'declined',
    ...(decision.kind === 'decline' ? { reason: decision.reason, message: decision.message } : {}),
  };
  if (options.dryRun) return outcome;

  const links = await linkToWebhookTrace(deps.pool, row);
  const span = deps.tracer.startSpan(
    RETRY_SIGNAL_SPAN,
    {
      kind: SpanKind.INTERNAL,
      root: true,
      links,
      attributes: {
        [ATTR.signalId]: signalId,
        [ATTR.webhookId]: row.webhook_id,
        [ATTR.ticker]: row.ticker,
        [ATTR.action]: row.action,
        ...(options.clientAddress ? { [ATTR.clientAddress]: options.clientAddress } : {}),
      },
    },
    ROOT_CONTEXT,
  );
  const traceId = span.spanContext().traceId;
  try {
    const record = { signalId, clientAddress: options.clientAddress, traceId };
    const retry =
      decision.kind === 'accept'
        ? await requeueFailedSignal(deps.pool, { ...record, traceparent: traceparentOf(span), maxAttempts: deps.maxAttempts })
        : await declineFailedSignal(deps.pool, { ...record, reason: decision.reason });
    if (retry === undefined) {
      throw new WebhookError('WH_ERR_CONFLICT', `Signal ${signalId} changed while it was being retried (another retry?): it is no longer failed.`);
    }
    span.setAttributes({ [ATTR.signalRetry]: retry, [ATTR.retryResult]: outcome.result, [ATTR.declineReason]: outcome.reason });
    return { ...outcome, retry, traceId };
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: toError(err).message });
    throw err;
  } finally {
    span.end();
  }
}

/** A link to the first span of the webhook that made the signal, when its record is still kept. */
async function linkToWebhookTrace(pool: Pool, row: SignalRow): Promise<Link[]> {
  if (!row.trace_id) return [];
  const stages = await listStageRecords(pool, row.webhook_id);
  const spanId = stages[0]?.span_id;
  return spanId ? [{ context: { traceId: row.trace_id, spanId, traceFlags: TraceFlags.SAMPLED } }] : [];
}
