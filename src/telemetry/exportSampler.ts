import { type Context, createContextKey, trace, TraceFlags } from '@opentelemetry/api';
import { type Sampler, SamplingDecision, type SamplingResult, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace';

const CALLER_PARENT = createContextKey('tv-webhook.callerParent');

/** Marks a context whose remote parent came from a caller's `traceparent`: correlated with, never obeyed. */
export function markCallerParent(context: Context): Context {
  return context.setValue(CALLER_PARENT, true);
}

/**
 * The tracer's sampler, and the export decision of a webhook's trace (WebhookTrace, which makes no SDK span).
 * Every span is recorded, so metrics and monitoring records cover every webhook whatever
 * the caller sends; only the export decision varies, carried by the sampled flag (the OTLP batch processor
 * exports sampled spans only). It is made once per trace, where the trace enters this service:
 * - a new trace, or one joined from a caller's `traceparent`: our setting (OTEL_TRACES_SAMPLER) decides, and the
 *   caller's sampled flag is ignored, so a caller can force export neither on nor off;
 * - a span under one of ours (a stage under its webhook; the worker's execution under the traceparent we stored
 *   with its job, which carries our flag): the parent's decision, so a trace is exported whole or not at all.
 * The ratio is set by the service from its configuration (setRatio); the SDK is built before that.
 */
export class ExportSampler implements Sampler {
  private ratio = 1;
  private byTraceId: Sampler = new TraceIdRatioBasedSampler(1);

  setRatio(ratio: number): void {
    this.ratio = Math.min(1, Math.max(0, ratio));
    this.byTraceId = new TraceIdRatioBasedSampler(this.ratio);
  }

  shouldSample(context: Context, traceId: string): SamplingResult {
    return { decision: this.exports(context, traceId) ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.RECORD };
  }

  /** Whether a span starting in `context` with `traceId` is exported: the rules above (a webhook's trace asks directly). */
  exports(context: Context, traceId: string): boolean {
    const parent = trace.getSpanContext(context);
    const joined = parent !== undefined && trace.isSpanContextValid(parent);
    const fromCaller = joined && parent.isRemote === true && context.getValue(CALLER_PARENT) === true;
    return joined && !fromCaller ? (parent.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED : this.decide(context, traceId, fromCaller);
  }

  private decide(context: Context, traceId: string, callerChoseTraceId: boolean): boolean {
    if (this.ratio >= 1) return true;
    if (this.ratio <= 0) return false;
    // traceidratio is a function of the trace id; a caller who chose the trace id would choose the decision.
    if (callerChoseTraceId) return Math.random() < this.ratio;
    return this.byTraceId.shouldSample(context, traceId, '', 0, {}, []).decision === SamplingDecision.RECORD_AND_SAMPLED;
  }

  toString(): string {
    return `ExportSampler{ratio=${this.ratio}}`;
  }
}

const SAMPLER_KEY = Symbol.for('tv-webhook.exportSampler');

/** The process-wide sampler (on globalThis, like the span hub, so the entry file and the app share it). */
export function getExportSampler(): ExportSampler {
  const g = globalThis as unknown as Record<symbol, ExportSampler | undefined>;
  g[SAMPLER_KEY] ??= new ExportSampler();
  return g[SAMPLER_KEY];
}
