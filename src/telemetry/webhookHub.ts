import type { FinishedWebhook } from './finishedWebhook.js';

export type WebhookConsumer = (webhook: FinishedWebhook) => void;

interface Attached {
  consumer: WebhookConsumer;
  onError: (err: unknown) => void;
}

/**
 * Where finished webhooks go: the metrics, the Postgres record sink and the exporter of stage spans attach here
 * (makeTelemetry), each reading the same compact result. Like the span hub, a consumer that throws is isolated:
 * its error goes to its `onError` and the others still run; nothing reaches the request path.
 *
 * A consumer attached as `deferred` gets the webhook after the current turn of the event loop's I/O (setImmediate),
 * not while its answer is being sent. The signal writer answers a whole batch of webhooks in one turn when their
 * commit returns; with monitoring run inline, the last answer of a batch of ten waited for ten webhooks' records,
 * metrics and spans to be made first. Deferred, every answer of the batch is written before any of that work.
 */
export class WebhookHub {
  private consumers: Attached[] = [];
  private deferredConsumers: Attached[] = [];
  private pending: FinishedWebhook[] = [];
  private scheduled = false;

  attach(consumer: WebhookConsumer, onError: (err: unknown) => void, options: { deferred?: boolean } = {}): () => void {
    const entry = { consumer, onError };
    if (options.deferred) this.deferredConsumers = [...this.deferredConsumers, entry];
    else this.consumers = [...this.consumers, entry];
    return () => {
      this.consumers = this.consumers.filter((c) => c !== entry);
      this.deferredConsumers = this.deferredConsumers.filter((c) => c !== entry);
    };
  }

  get attached(): boolean {
    return this.consumers.length > 0 || this.deferredConsumers.length > 0;
  }

  finish(webhook: FinishedWebhook): void {
    deliver(this.consumers, webhook);
    if (this.deferredConsumers.length === 0) return;
    // Bounded by the webhooks answered in one turn: the list is emptied at the end of that turn.
    this.pending.push(webhook);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.drain());
  }

  /** Delivers what is pending to the deferred consumers now (the scheduled drain, or a test's). */
  drain(): void {
    this.scheduled = false;
    const webhooks = this.pending;
    this.pending = [];
    const consumers = this.deferredConsumers;
    for (const w of webhooks) deliver(consumers, w);
  }
}

function deliver(consumers: Attached[], webhook: FinishedWebhook): void {
  for (const c of consumers) {
    try {
      c.consumer(webhook);
    } catch (err) {
      c.onError(err);
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
