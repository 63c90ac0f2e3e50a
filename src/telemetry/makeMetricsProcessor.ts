import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';
import { EXECUTE_SIGNAL_TASK, RETRY_SIGNAL_SPAN } from '../domain/executeSignalJob.js';
import { ATTR } from './attributes.js';
import type { Metrics } from './makeMetrics.js';

function seconds(span: ReadableSpan): number {
  return span.duration[0] + span.duration[1] / 1e9;
}

/**
 * Turns the worker's execution spans (and an operator's retry of a failed signal) into Prometheus metrics, with the
 * trace id as exemplar. A webhook's own
 * metrics are made from its compact result (makeWebhookMetrics), not from spans.
 */
export function makeMetricsProcessor(metrics: Metrics): SpanProcessor {
  return {
    onStart: () => undefined,
    onEnd(span) {
      const a = span.attributes;
      if (span.name === RETRY_SIGNAL_SPAN) {
        if (typeof a[ATTR.retryResult] === 'string') metrics.signalRetries.inc({ result: String(a[ATTR.retryResult]) });
        return;
      }
      if (span.name !== EXECUTE_SIGNAL_TASK) return;
      // prom-client types exemplar labels as the metric's own label names; any names are valid in OpenMetrics.
      const exemplarLabels = { trace_id: span.spanContext().traceId } as never;
      const labels = { executor: String(a[ATTR.executor] ?? 'unknown'), outcome: String(a[ATTR.executionOutcome] ?? 'unknown') };
      metrics.executions.inc(labels);
      metrics.executionSeconds.observe({ labels, value: seconds(span), exemplarLabels });
    },
    forceFlush: async () => undefined,
    shutdown: async () => undefined,
  };
}
