import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';
import { EXECUTE_SIGNAL_TASK, RETRY_SIGNAL_SPAN } from '../domain/executeSignalJob.js';
import { ATTR } from './attributes.js';
import type { Metrics } from './makeMetrics.js';

function seconds(span: ReadableSpan): number {
  return span.duration[0] + span.duration[1] / 1e9;
}

/**
 * Turns span ends into Prometheus metrics: one source of truth (the spans) for traces, records and metrics.
 * Exemplars carry the trace id, so a latency spike in Grafana links to the very trace in Jaeger.
 */
export function makeMetricsProcessor(metrics: Metrics): SpanProcessor {
  return {
    onStart: () => undefined,
    onEnd(span) {
      const a = span.attributes;
      // prom-client types exemplar labels as the metric's own label names; any names are valid in OpenMetrics.
      const exemplarLabels = { trace_id: span.spanContext().traceId } as never;
      if (a[ATTR.record] === 'request') {
        const status = String(a[ATTR.status] ?? 'failed');
        const code = String(a[ATTR.errorCode] ?? a[ATTR.outcome] ?? 'none');
        metrics.requests.inc({ status, code });
        metrics.processingSeconds.observe({ labels: { status }, value: seconds(span), exemplarLabels });
        const size = a[ATTR.payloadSize];
        if (typeof size === 'number') metrics.payloadBytes.observe(size);
        const lag = a[ATTR.deliveryLagMs];
        if (typeof lag === 'number' && lag >= 0) metrics.deliveryLagSeconds.observe(lag / 1000);
        const reason = a[ATTR.declineReason];
        if (typeof reason === 'string') metrics.declines.inc({ reason });
      } else if (a[ATTR.record] === 'stage') {
        const stage = String(a[ATTR.stage]);
        const status = span.status.code === 2 ? 'failed' : 'completed';
        metrics.stageSeconds.observe({ labels: { stage, status }, value: seconds(span), exemplarLabels });
      } else if (span.name === EXECUTE_SIGNAL_TASK) {
        const labels = { executor: String(a[ATTR.executor] ?? 'unknown'), outcome: String(a[ATTR.executionOutcome] ?? 'unknown') };
        metrics.executions.inc(labels);
        metrics.executionSeconds.observe({ labels, value: seconds(span), exemplarLabels });
      } else if (span.name === RETRY_SIGNAL_SPAN && typeof a[ATTR.retryResult] === 'string') {
        metrics.signalRetries.inc({ result: String(a[ATTR.retryResult]) });
      }
    },
    forceFlush: async () => undefined,
    shutdown: async () => undefined,
  };
}
