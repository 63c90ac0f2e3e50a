import { ATTR } from './attributes.js';
import type { FinishedWebhook } from './finishedWebhook.js';
import { makeFastObserver } from './makeFastObserver.js';
import type { Metrics } from './makeMetrics.js';
import type { WebhookConsumer } from './webhookHub.js';

/**
 * A webhook's metrics, from the same compact result as its record and its stage spans. Label children are bound
 * once per label set (the sets are fixed: statuses, codes, stages) instead of being looked up by prom-client on
 * every observation. The end-to-end latency carries the trace id as an exemplar, so a latency spike in Grafana
 * links to the very trace in Jaeger.
 */
export function makeWebhookMetrics(metrics: Metrics): WebhookConsumer {
  // Keyed by each label in turn, not by a joined string: no string is made per observation (seven a webhook).
  const requestCounters = new Map<string, Map<string, { inc(): void }>>();
  type StageObservers = Partial<Record<'completed' | 'failed', (value: number) => void>>;
  const stageHistograms = new Map<string, StageObservers>();
  const declineCounters = new Map<string, { inc(): void }>();
  const bound = <T>(cache: Map<string, T>, key: string, make: () => T): T => {
    let child = cache.get(key);
    if (child === undefined) {
      child = make();
      cache.set(key, child);
    }
    return child;
  };
  const observePayloadBytes = makeFastObserver(metrics.payloadBytes, {});
  const observeDeliveryLag = makeFastObserver(metrics.deliveryLagSeconds, {});
  const processingObservers = new Map<string, (value: number, exemplar?: Record<string, string>) => void>();
  return (w: FinishedWebhook) => {
    const a = w.attributes;
    const status = w.status;
    const code = w.errorCode ?? w.outcome ?? 'none';
    bound(bound(requestCounters, status, () => new Map<string, { inc(): void }>()), code, () => metrics.requests.labels({ status, code })).inc();
    bound(processingObservers, status, () => makeFastObserver(metrics.processingSeconds, { status }))((w.endMs - w.startMs) / 1000, { trace_id: w.traceId });
    const size = a[ATTR.payloadSize];
    if (typeof size === 'number') observePayloadBytes(size);
    const lag = a[ATTR.deliveryLagMs];
    if (typeof lag === 'number' && lag >= 0) observeDeliveryLag(lag / 1000);
    const reason = a[ATTR.declineReason];
    if (typeof reason === 'string') bound(declineCounters, reason, () => metrics.declines.labels({ reason })).inc();
    for (const s of w.stages) {
      const stageStatus = s.failed ? 'failed' : 'completed';
      const observers = bound<StageObservers>(stageHistograms, s.stage, () => ({}));
      (observers[stageStatus] ??= makeFastObserver(metrics.stageSeconds, { stage: s.stage, status: stageStatus }))((s.endMs - s.startMs) / 1000);
    }
  };
}
