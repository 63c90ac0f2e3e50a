import { ROOT_CONTEXT, SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import type { Pool } from '../db/makePool.js';
import { toError, WebhookError } from '../domain/errors.js';
import type { ExecutorName } from '../execution/executor.js';
import { type ManualOutcome, settleStuckSignal } from '../execution/settleStuckSignal.js';
import { ATTR } from '../telemetry/attributes.js';
import { getSignal } from './getSignal.js';
import { listExecutions } from './listExecutions.js';
import type { SignalRow } from './signalJson.js';

export interface SettleDeps {
  pool: Pool;
  tracer: Tracer;
  /**
   * EXECUTOR, for a signal nothing else names the executor of (no kept order, no earlier execution row): a paper
   * signal cannot be settled as executed (its fill is the paper book's to make).
   */
  executor: ExecutorName;
  /** HEALTH_QUEUE_MAX_AGE_SECONDS: how long a signal must be unchanged before it counts as stuck. */
  stuckAfterSeconds: number;
  /** A job locked more recently than this is an attempt still running (liveAttemptSeconds). */
  liveAttemptSeconds: number;
}

export interface SettleOutcome {
  signalId: string;
  ticker: string;
  action: string;
  previousStatus: string;
  previousError: string | null;
  outcome: ManualOutcome;
  note: string;
  /** The order an attempt sent and could not record, kept in the execution row; null when there was none. */
  unrecordedOrder: unknown;
}

export const SETTLE_SIGNAL_SPAN = 'settle_signal';

/**
 * Settles a stuck signal by hand, once the operator has checked the target: `executed` (the order is there) or
 * `failed` (it is not; the signal can then be retried). For the signals the worker can no longer settle: an order
 * that went out but could not be recorded at its last attempt, a worker that died holding the job, a job removed.
 * Only a signal stuck by the health check's rule moves, so this cannot cut in on a running attempt; each
 * settlement is traced and kept in the execution row (who, from where, why).
 */
export async function settleSignal(
  deps: SettleDeps,
  signalId: string,
  options: { outcome: ManualOutcome; note: string; clientAddress: string | null },
): Promise<SettleOutcome> {
  const row = await getSignal(deps.pool, signalId);
  if (!row) throw new WebhookError('WH_ERR_NOT_FOUND', `No signal ${signalId}.`);
  const executor = await executorOf(deps, row);
  if (options.outcome === 'executed' && executor === 'paper') {
    throw new WebhookError(
      'WH_ERR_BAD_REQUEST',
      'outcome=executed is for orders at a forward target; a paper fill is made by the paper book: settle it as failed, then retry it.',
    );
  }
  const notStuck = () =>
    new WebhookError(
      'WH_ERR_CONFLICT',
      `Signal ${signalId} is ${row.status}: only a stuck signal can be settled by hand: queued or executing, unchanged for ` +
        `${deps.stuckAfterSeconds} s (HEALTH_QUEUE_MAX_AGE_SECONDS), with no job waiting for its run or retry and none ` +
        `running (a job locked for less than ${deps.liveAttemptSeconds} s is an attempt still running).`,
    );
  if (row.status !== 'queued' && row.status !== 'executing') throw notStuck();
  const span = deps.tracer.startSpan(
    SETTLE_SIGNAL_SPAN,
    {
      kind: SpanKind.INTERNAL,
      root: true,
      attributes: {
        [ATTR.signalId]: signalId,
        [ATTR.webhookId]: row.webhook_id,
        [ATTR.ticker]: row.ticker,
        [ATTR.action]: row.action,
        [ATTR.executionOutcome]: options.outcome,
        ...(options.clientAddress ? { [ATTR.clientAddress]: options.clientAddress } : {}),
      },
    },
    ROOT_CONTEXT,
  );
  try {
    const settled = await settleStuckSignal(deps.pool, {
      signalId,
      afterSeconds: deps.stuckAfterSeconds,
      liveAttemptSeconds: deps.liveAttemptSeconds,
      outcome: options.outcome,
      executor,
      note: options.note,
      clientAddress: options.clientAddress,
      traceId: span.spanContext().traceId,
    });
    if (!settled) throw notStuck();
    return {
      signalId,
      ticker: settled.ticker,
      action: settled.action,
      previousStatus: row.status,
      previousError: row.last_error,
      outcome: options.outcome,
      note: options.note,
      unrecordedOrder: settled.unrecordedOrder ?? null,
    };
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: toError(err).message });
    throw err;
  } finally {
    span.end();
  }
}

/**
 * Which executor ran the signal: the one that sent its kept order, or that of its latest execution row; only when
 * neither exists, this process's EXECUTOR (a web process may run with a worker elsewhere, on another executor).
 */
async function executorOf(deps: SettleDeps, row: SignalRow): Promise<ExecutorName> {
  const kept = (row.unrecorded_effect as { executor?: ExecutorName } | null)?.executor;
  if (kept) return kept;
  const [latest] = await listExecutions(deps.pool, { signalId: row.id, limit: 1 });
  return (latest?.executor as ExecutorName | undefined) ?? deps.executor;
}
