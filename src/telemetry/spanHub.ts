import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';

/**
 * The one span processor given to the tracer provider. The provider is built before the application loads
 * (its processors are fixed then), while the consumers of span ends (metrics, the Postgres sink, the OTLP
 * exporter) are made by the service from its configuration: they attach here when it starts and detach when it
 * stops. A consumer that throws is isolated: the error is counted and the others still run.
 */
export class SpanHub implements SpanProcessor {
  private consumers: SpanProcessor[] = [];
  consumerErrors = 0;

  attach(consumer: SpanProcessor): () => void {
    this.consumers = [...this.consumers, consumer];
    return () => {
      this.consumers = this.consumers.filter((c) => c !== consumer);
    };
  }

  onStart(span: Span, parentContext: Context): void {
    for (const c of this.consumers) {
      try {
        c.onStart(span, parentContext);
      } catch {
        this.consumerErrors += 1;
      }
    }
  }

  onEnd(span: ReadableSpan): void {
    for (const c of this.consumers) {
      try {
        c.onEnd(span);
      } catch {
        this.consumerErrors += 1;
      }
    }
  }

  async forceFlush(): Promise<void> {
    await Promise.allSettled(this.consumers.map((c) => c.forceFlush()));
  }

  async shutdown(): Promise<void> {
    await Promise.allSettled(this.consumers.map((c) => c.shutdown()));
  }
}

const HUB_KEY = Symbol.for('tv-webhook.spanHub');

/** The process-wide hub (kept on globalThis so that the entry file and the app share it). */
export function getSpanHub(): SpanHub {
  const g = globalThis as unknown as Record<symbol, SpanHub | undefined>;
  g[HUB_KEY] ??= new SpanHub();
  return g[HUB_KEY];
}
