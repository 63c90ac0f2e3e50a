import type { FinishedWebhook } from './finishedWebhook.js';

export type WebhookConsumer = (webhook: FinishedWebhook) => void;

/**
 * Where finished webhooks go: the metrics, the Postgres record sink and the OTLP exporter attach here
 * (makeTelemetry), each reading the same compact result. Like the span hub, a consumer that throws is isolated:
 * its error goes to its `onError` and the others still run; nothing reaches the request path.
 */
export class WebhookHub {
  private consumers: Array<{ consumer: WebhookConsumer; onError: (err: unknown) => void }> = [];

  attach(consumer: WebhookConsumer, onError: (err: unknown) => void): () => void {
    const entry = { consumer, onError };
    this.consumers = [...this.consumers, entry];
    return () => {
      this.consumers = this.consumers.filter((c) => c !== entry);
    };
  }

  get attached(): boolean {
    return this.consumers.length > 0;
  }

  finish(webhook: FinishedWebhook): void {
    for (const c of this.consumers) {
      try {
        c.consumer(webhook);
      } catch (err) {
        c.onError(err);
      }
    }
  }
}

const HUB_KEY = Symbol.for('tv-webhook.webhookHub');

/** The process-wide hub (on globalThis, like the span hub). */
export function getWebhookHub(): WebhookHub {
  const g = globalThis as unknown as Record<symbol, WebhookHub | undefined>;
  g[HUB_KEY] ??= new WebhookHub();
  return g[HUB_KEY];
}
