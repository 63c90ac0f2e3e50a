import { type Context, type Link, ROOT_CONTEXT, type Span, type SpanContext, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { Stage, WebhookStatus } from '../domain/types.js';
import { ATTR } from './attributes.js';
import { type ExportSampler, markCallerParent } from './exportSampler.js';
import type { StageTiming } from './finishedWebhook.js';
import { MAX_STAGES, rootSpanIdOf, spanIdPrefixOf, stageSpanIdOf } from './deriveSpanIds.js';
import { makeTraceId } from './makeTraceId.js';
import type { RecordExtras } from './recordExtras.js';
import { getWebhookHub } from './webhookHub.js';

const propagator = new W3CTraceContextPropagator();
const headerGetter = {
  get: (carrier: Record<string, string | string[] | undefined>, key: string) => carrier[key],
  keys: (carrier: Record<string, string | string[] | undefined>) => Object.keys(carrier),
};
const setter = { set: (carrier: Record<string, string>, key: string, value: string) => void (carrier[key] = value) };

/**
 * The caller's trace context, when the request carries `traceparent`: our spans join its trace, but its sampled
 * flag decides nothing (see ExportSampler).
 */
export function extractParent(headers: Record<string, string | string[] | undefined>): Context {
  // The propagator reads nothing but `traceparent` (and `tracestate` only beside it). TradingView sends neither:
  // the root context, marked once, instead of a new context (a copy of its Map) per webhook.
  if (headers.traceparent === undefined) return CALLER_ROOT;
  return markCallerParent(propagator.extract(ROOT_CONTEXT, headers, headerGetter));
}

/** What extractParent returns for a request without `traceparent`: contexts are immutable, so one serves all. */
const CALLER_ROOT = markCallerParent(ROOT_CONTEXT);

/**
 * A `traceparent` value for an SDK span (an operator's retry), to store with a job so the worker joins the same
 * trace. Its sampled flag is our export decision for the trace (never the caller's), which the worker's spans follow.
 */
export function traceparentOf(span: Span): string | null {
  if (!span.isRecording()) return null;
  const carrier: Record<string, string> = {};
  propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, setter);
  return carrier.traceparent ?? null;
}

export function contextFromTraceparent(traceparent: string | null | undefined): Context {
  return traceparent ? propagator.extract(ROOT_CONTEXT, { traceparent }, headerGetter) : ROOT_CONTEXT;
}

export interface WebhookResult {
  status: WebhookStatus;
  httpStatus: number;
  outcome?: string;
  errorCode?: string;
  errorMessage?: string;
  rejection: boolean;
  extras: RecordExtras;
}

export type Attributes = Record<string, string | number | boolean | undefined>;

const now = () => performance.timeOrigin + performance.now();

/** What a webhook's trace needs from the service: whether monitoring is on, and who decides export. */
export interface WebhookTracing {
  /** False with MONITORING_ENABLED=false: nothing is timed, recorded or exported. */
  recording: boolean;
  sampler: Pick<ExportSampler, 'exports'>;
}

/** Monitoring off. */
export const NOT_TRACED: WebhookTracing = { recording: false, sampler: { exports: () => false } };

/**
 * One trace per webhook: a root span for the request and one stage per step (received, enriching, deciding,
 * executing, then completed or failed), all captured as plain numbers and strings on the request path: no SDK
 * span. The trace joins a caller's `traceparent` (its trace id, its span as the root's parent) or starts a new
 * one (our random ids); the export decision is ExportSampler's, as it was for the SDK root span it replaces
 * (never the caller's flag). When the webhook is answered, `finish` hands one compact result (FinishedWebhook)
 * to the webhook hub, from which the record, the metrics and, for an exported trace, its OTLP spans are all
 * made: the request path creates no span object, and nothing is re-read by three consumers. Parents are passed
 * explicitly, not through async context, so the request path pays for no context propagation.
 */
export class WebhookTrace {
  readonly webhookId: string;
  private readonly recording: boolean;
  private readonly name: string;
  private readonly startMs: number;
  private readonly traceIdHex: string;
  private readonly spanId: string;
  /** What this webhook's span ids begin with (see deriveSpanIds). */
  private readonly spanIdPrefix: string;
  private readonly exported: boolean;
  private readonly parent: SpanContext | undefined;
  private readonly links: Link[] | undefined;
  private readonly rootAttributes: Record<string, string | number | boolean>;
  private readonly stages: StageTiming[] = [];
  private current: StageTiming | undefined;
  private finished = false;

  constructor(
    tracing: WebhookTracing,
    options: { name: string; webhookId: string; parent: Context; startTime: number; attributes: Attributes; links?: Link[] },
  ) {
    this.webhookId = options.webhookId;
    this.recording = tracing.recording;
    this.name = options.name;
    this.startMs = options.startTime;
    this.links = options.links;
    this.rootAttributes = {};
    if (this.recording) {
      // The same object as clean({ ...attributes, webhookId, record }), without the spread's copy.
      for (const k in options.attributes) if (options.attributes[k] !== undefined) this.rootAttributes[k] = options.attributes[k]!;
      this.rootAttributes[ATTR.webhookId] = options.webhookId;
      this.rootAttributes[ATTR.record] = 'request';
    }
    const parent = this.recording ? trace.getSpanContext(options.parent) : undefined;
    this.parent = parent && trace.isSpanContextValid(parent) ? parent : undefined;
    this.traceIdHex = this.parent?.traceId ?? (this.recording ? makeTraceId() : '');
    this.spanIdPrefix = this.recording ? spanIdPrefixOf(options.webhookId) : '';
    this.spanId = this.recording ? rootSpanIdOf(this.spanIdPrefix) : '';
    this.exported = this.recording && tracing.sampler.exports(options.parent, this.traceIdHex);
  }

  /** Whether this webhook is monitored at all (false with MONITORING_ENABLED=false: no record, span or metric). */
  get isRecording(): boolean {
    return this.recording;
  }

  get traceId(): string | null {
    return this.recording ? this.traceIdHex : null;
  }

  /**
   * A `traceparent` value for the root span, to store with a job so the worker joins the same trace. Its sampled
   * flag is our export decision for the trace (never the caller's), which the worker's spans follow.
   */
  traceparent(): string | null {
    return this.recording ? `00-${this.traceIdHex}-${this.spanId}-${this.exported ? '01' : '00'}` : null;
  }

  get stage(): Stage | undefined {
    return this.current?.stage;
  }

  /**
   * Ends the current stage (completed) and starts the next. A webhook has five or six stages; past MAX_STAGES - 1
   * (which would leave its terminal stage no span id) the current stage just goes on.
   */
  begin(stage: Stage, startTime?: number): void {
    if (!this.recording) return;
    const at = startTime ?? now();
    if (this.stages.length + (this.current ? 1 : 0) + 2 > MAX_STAGES) return;
    this.endStage(at);
    // Its ordinal: the stages ended before it, plus one.
    this.current = { stage, startMs: at, endMs: at, spanId: stageSpanIdOf(this.spanIdPrefix, this.stages.length + 1), failed: false };
  }

  /** Attributes on the current stage (they become the stage record's metadata). */
  stageAttributes(attributes: Attributes): void {
    if (!this.current) return;
    const kept = (this.current.attributes ??= {});
    for (const k in attributes) if (attributes[k] !== undefined) kept[k] = attributes[k]!;
  }

  attributes(attributes: Attributes): void {
    if (!this.recording) return;
    for (const k in attributes) if (attributes[k] !== undefined) this.rootAttributes[k] = attributes[k]!;
  }

  private endStage(at: number, error?: { code?: string; message: string }): void {
    const stage = this.current;
    if (!stage) return;
    stage.endMs = at;
    if (error) {
      stage.failed = true;
      stage.errorMessage = error.message;
      stage.errorCode = error.code;
    }
    this.stages.push(stage);
    this.current = undefined;
  }

  /** Ends the current stage (failed unless the webhook succeeded), adds the terminal stage, hands the result over. */
  finish(result: WebhookResult): void {
    if (!this.recording || this.finished) return;
    this.finished = true;
    const ok = result.status === 'success';
    const endMs = now();
    this.endStage(endMs, ok ? undefined : { code: result.errorCode, message: result.errorMessage ?? result.errorCode ?? 'failed' });
    const terminal: Stage = ok ? 'completed' : 'failed';
    this.stages.push({
      stage: terminal,
      startMs: endMs,
      endMs,
      spanId: stageSpanIdOf(this.spanIdPrefix, this.stages.length + 1),
      failed: !ok,
      errorMessage: ok ? undefined : (result.errorMessage ?? ''),
      attributes: clean({ [ATTR.status]: result.status, [ATTR.errorCode]: result.errorCode, [ATTR.outcome]: result.outcome }),
    });
    const a = this.rootAttributes;
    a[ATTR.status] = result.status;
    a[ATTR.httpStatus] = result.httpStatus;
    if (result.outcome !== undefined) a[ATTR.outcome] = result.outcome;
    if (result.errorCode !== undefined) a[ATTR.errorCode] = result.errorCode;
    if (result.rejection && result.errorCode !== undefined) a[ATTR.rejectionCode] = result.errorCode;
    if (result.status === 'failed' && result.errorCode) a[ATTR.errorType] = result.errorCode;
    getWebhookHub().finish({
      webhookId: this.webhookId,
      traceId: this.traceIdHex,
      spanId: this.spanId,
      exported: this.exported,
      name: this.name,
      parent: this.parent,
      links: this.links,
      startMs: this.startMs,
      endMs,
      attributes: a,
      status: result.status,
      httpStatus: result.httpStatus,
      outcome: result.outcome,
      errorCode: result.errorCode,
      errorMessage: result.errorMessage,
      stages: this.stages,
      extras: result.extras,
    });
  }
}

function clean(attributes: Attributes): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const k in attributes) if (attributes[k] !== undefined) out[k] = attributes[k]!;
  return out;
}
