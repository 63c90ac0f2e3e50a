import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';

/**
 * The one span processor given to the tracer provider. The provider is built before the application loads
 * (its processors are fixed then), while the consumers of span ends (metrics, the Postgres sink, the OTLP
 * exporter) are made by the service from its configuration: they attach here when it starts and detach when it
 * stops. A consumer that throws is isolated here, and only here: its error goes to the consumer's `onError`
 * (makeTelemetry counts it in monitoring_instrumentation_errors_total and logs it) and the others still run.
 * Span starts and ends run on the request path: nothing a consumer throws may reach it.
 */
export class SpanHub implements SpanProcessor {
  private consumers: Array<{ consumer: SpanProcessor; onError: (err: unknown) => void }> = [];

  attach(consumer: SpanProcessor, onError: (err: unknown) => void): () => void {
    const entry = { consumer, onError };
    this.consumers = [...this.consumers, entry];
    return () => {
      this.consumers = this.consumers.filter((c) => c !== entry);
    };
  }

  onStart(span: Span, parentContext: Context): void {
    for (const c of this.consumers) {
      try {
        c.consumer.onStart(span, parentContext);
      } catch (err) {
        c.onError(err);
      }
    }
  }

  onEnd(span: ReadableSpan): void {
    for (const c of this.consumers) {
      try {
        c.consumer.onEnd(span);
      } catch (err) {
        c.onError(err);
      }
    }
  }

  async forceFlush(): Promise<void> {
    await Promise.allSettled(this.consumers.map((c) => c.consumer.forceFlush()));
  }

  async shutdown(): Promise<void> {
    await Promise.allSettled(this.consumers.map((c) => c.consumer.shutdown()));
  }
}

const HUB_KEY = Symbol.for('tv-webhook.spanHub');

/** The process-wide hub (kept on globalThis so that the entry file and the app share it). */
export function getSpanHub(): SpanHub {
  const g = globalThis as unknown as Record<symbol, SpanHub | undefined>;
  g[HUB_KEY] ??= new SpanHub();
  return g[HUB_KEY];
}
