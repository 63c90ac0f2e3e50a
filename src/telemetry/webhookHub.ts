import type { FinishedWebhook } from './finishedWebhook.js';

export type WebhookConsumer = (webhook: FinishedWebhook) => void;

interface Attached {
  consumer: WebhookConsumer;
  onError: (err: unknown) => void;
}

/** How long a finished webhook waits at most for its deferred consumers, and how many may wait (see WebhookHub). */
export const DEFERRED_DELAY_MS = 10;
export const MAX_PENDING_WEBHOOKS = 256;

/**
 * Where finished webhooks go: the metrics, the Postgres record sink and the exporter of stage spans attach here
 * (makeTelemetry), each reading the same compact result. Like the span hub, a consumer that throws is isolated:
 * its error goes to its `onError` and the others still run; nothing reaches the request path.
 *
 * A consumer attached as `deferred` gets the webhook after the turn of the event loop that answered it, not
 * while its answer is being sent: the signal writer answers a whole batch of webhooks in one turn when their
 * commit returns, and with monitoring run inline the last answer of a batch of ten waited for ten webhooks'
 * records, metrics and spans to be made first.
 *
 * Deferred webhooks are handed over in batches, consumer by consumer: every `delayMs` (10 ms), or on the next turn
 * once `maxPending` (256) wait, each consumer goes through the whole batch before the next one starts. What waits
 * is bounded by `maxPending`, or by one turn's answers when a turn answers more. Measured in the service under
 * closed-loop load with OTLP export, switching between the two ways every 2 s in one process (medians of 20 pairs,
 * twice): a webhook at a time after every turn, each through every consumer in turn, cost 12-17 µs of main-thread
 * CPU a webhook more (of 250-290). Each consumer's code and data stay warm over its batch instead of being pushed
 * out by the next consumer's, and the event loop no longer turns once more after every turn that answered
 * something (setImmediate). Records and metrics are made at most 10 ms later; a scrape of /metrics drains first,
 * so it counts every webhook answered.
 */
export class WebhookHub {
  /** See DEFERRED_DELAY_MS; a test may lengthen it. */
  delayMs = DEFERRED_DELAY_MS;
  private consumers: Attached[] = [];
  private deferredConsumers: Attached[] = [];
  private pending: FinishedWebhook[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;

  constructor(private readonly maxPending = MAX_PENDING_WEBHOOKS) {}

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
    for (const c of this.consumers) deliver(c, webhook);
    if (this.deferredConsumers.length === 0) return;
    this.pending.push(webhook);
    if (this.pending.length >= this.maxPending) this.immediate ??= setImmediate(() => this.drain());
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.drain(), this.delayMs);
      // The service's stop drains what is left; a pending batch does not keep a process alive.
      this.timer.unref();
    }
  }

  /** Delivers what is pending to the deferred consumers now (the scheduled drain, a scrape's, shutdown's, a test's). */
  drain(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.immediate = undefined;
    const webhooks = this.pending;
    if (webhooks.length === 0) return;
    this.pending = [];
    for (const c of this.deferredConsumers) for (const w of webhooks) deliver(c, w);
  }
}

function deliver(c: Attached, webhook: FinishedWebhook): void {
  try {
    c.consumer(webhook);
  } catch (err) {
    c.onError(err);
  }
}

const HUB_KEY = Symbol.for('tv-webhook.webhookHub');

/** The process-wide hub (on globalThis, like the span hub). */
export function getWebhookHub(): WebhookHub {
  const g = globalThis as unknown as Record<symbol, WebhookHub | undefined>;
  g[HUB_KEY] ??= new WebhookHub();
  return g[HUB_KEY];
}
