import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';

/**
 * Counts the spans a BatchSpanProcessor drops at its queue bound, which it only logs. It mirrors the queue from
 * public behaviour: a sampled span that ends joins the queue, a span handed to the exporter leaves it; a span
 * that ends while the mirror is full is one the processor drops.
 */
export function makeQueueDropCounter(maxQueueSize: number, onDrop: (spans: number) => void) {
  let queued = 0;
  return {
    /** Give the exporter wrapper this, so spans leaving the queue are known. */
    handedOver(spans: number): void {
      queued = Math.max(0, queued - spans);
    },
    wrap(processor: SpanProcessor): SpanProcessor {
      return {
        onStart: (span: Span, context: Context) => processor.onStart(span, context),
        onEnd(span: ReadableSpan) {
          if ((span.spanContext().traceFlags & 1) === 1) {
            if (queued >= maxQueueSize) onDrop(1);
            else queued += 1;
          }
          processor.onEnd(span);
        },
        forceFlush: () => processor.forceFlush(),
        shutdown: () => processor.shutdown(),
      };
    },
  };
}
