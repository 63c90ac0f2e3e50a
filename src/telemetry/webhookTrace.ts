import { type Context, type Link, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { Stage, WebhookStatus } from '../domain/types.js';
import { ATTR } from './attributes.js';
import { markCallerParent } from './exportSampler.js';
import { type RecordExtras, setRecordExtras } from './recordExtras.js';

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
  return markCallerParent(propagator.extract(ROOT_CONTEXT, headers, headerGetter));
}

/**
 * A `traceparent` value for a span, to store with a job so the worker joins the same trace. Its sampled flag is
 * our export decision for the trace (never the caller's), which the worker's spans follow.
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

/**
 * One trace per webhook: a root span for the request and one child span per stage (received, enriching,
 * deciding, executing, then completed or failed). Parents are passed explicitly, not through async context,
 * so the request path pays for no context propagation.
 */
export class WebhookTrace {
  readonly root: Span;
  private readonly ctx: Context;
  private current: { stage: Stage; span: Span } | undefined;

  constructor(
    private readonly tracer: Tracer,
    options: { name: string; webhookId: string; parent: Context; startTime: number; attributes: Attributes; links?: Link[] },
  ) {
    this.root = tracer.startSpan(
      options.name,
      {
        kind: SpanKind.SERVER,
        startTime: options.startTime,
        links: options.links,
        attributes: clean({ ...options.attributes, [ATTR.webhookId]: options.webhookId, [ATTR.record]: 'request' }),
      },
      options.parent,
    );
    this.ctx = trace.setSpan(options.parent, this.root);
    this.webhookId = options.webhookId;
  }

  readonly webhookId: string;

  get traceId(): string | null {
    return this.root.isRecording() ? this.root.spanContext().traceId : null;
  }

  traceparent(): string | null {
    return traceparentOf(this.root);
  }

  get stage(): Stage | undefined {
    return this.current?.stage;
  }

  /** Ends the current stage (completed) and starts the next. */
  begin(stage: Stage, startTime?: number): void {
    this.endStage();
    const span = this.tracer.startSpan(
      stage,
      { startTime, attributes: { [ATTR.record]: 'stage', [ATTR.stage]: stage, [ATTR.webhookId]: this.webhookId } },
      this.ctx,
    );
    this.current = { stage, span };
  }

  /** Attributes on the current stage (they become the stage record's metadata). */
  stageAttributes(attributes: Attributes): void {
    this.current?.span.setAttributes(clean(attributes));
  }

  attributes(attributes: Attributes): void {
    this.root.setAttributes(clean(attributes));
  }

  private endStage(error?: { code?: string; message: string }): void {
    if (!this.current) return;
    const { span } = this.current;
    if (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
      if (error.code) span.setAttribute(ATTR.errorType, error.code);
    }
    span.end();
    this.current = undefined;
  }

  /** Ends the current stage as failed, adds the terminal stage, ends the root span with the outcome. */
  finish(result: WebhookResult): void {
    const ok = result.status === 'success';
    this.endStage(ok ? undefined : { code: result.errorCode, message: result.errorMessage ?? result.errorCode ?? 'failed' });
    const terminal: Stage = ok ? 'completed' : 'failed';
    const marker = this.tracer.startSpan(
      terminal,
      {
        attributes: clean({
          [ATTR.record]: 'stage',
          [ATTR.stage]: terminal,
          [ATTR.webhookId]: this.webhookId,
          [ATTR.status]: result.status,
          [ATTR.errorCode]: result.errorCode,
          [ATTR.outcome]: result.outcome,
        }),
      },
      this.ctx,
    );
    if (!ok) marker.setStatus({ code: SpanStatusCode.ERROR, message: result.errorMessage ?? '' });
    marker.end();
    this.root.setAttributes(
      clean({
        [ATTR.status]: result.status,
        [ATTR.httpStatus]: result.httpStatus,
        [ATTR.outcome]: result.outcome,
        [ATTR.errorCode]: result.errorCode,
        [ATTR.rejectionCode]: result.rejection ? result.errorCode : undefined,
      }),
    );
    if (result.status === 'failed') {
      this.root.setStatus({ code: SpanStatusCode.ERROR, message: result.errorMessage ?? result.errorCode ?? 'failed' });
      if (result.errorCode) this.root.setAttribute(ATTR.errorType, result.errorCode);
    }
    setRecordExtras(this.root, result.extras);
    this.root.end();
  }
}

function clean(attributes: Attributes): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(attributes)) if (v !== undefined) out[k] = v;
  return out;
}
