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
  // Looked up with get, then made once: a `() => make` closure per lookup was allocated on every observation.
  const requestCounters = new Map<string, Map<string, { inc(): void }>>();
  type Observe = (value: number, exemplar?: Record<string, string>) => void;
  const completedStages = new Map<string, Observe>();
  const failedStages = new Map<string, Observe>();
  const declineCounters = new Map<string, { inc(): void }>();
  const observePayloadBytes = makeFastObserver(metrics.payloadBytes, {});
  const observeDeliveryLag = makeFastObserver(metrics.deliveryLagSeconds, {});
  const processingObservers = new Map<string, Observe>();
  return (w: FinishedWebhook) => {
    const a = w.attributes;
    const status = w.status;
    const code = w.errorCode ?? w.outcome ?? 'none';
    let byCode = requestCounters.get(status);
    if (byCode === undefined) requestCounters.set(status, (byCode = new Map()));
    let counter = byCode.get(code);
    if (counter === undefined) byCode.set(code, (counter = metrics.requests.labels({ status, code })));
    counter.inc();
    let observeProcessing = processingObservers.get(status);
    if (observeProcessing === undefined) processingObservers.set(status, (observeProcessing = makeFastObserver(metrics.processingSeconds, { status })));
    observeProcessing((w.endMs - w.startMs) / 1000, { trace_id: w.traceId });
    const size = a[ATTR.payloadSize];
    if (typeof size === 'number') observePayloadBytes(size);
    const lag = a[ATTR.deliveryLagMs];
    if (typeof lag === 'number' && lag >= 0) observeDeliveryLag(lag / 1000);
    const reason = a[ATTR.declineReason];
    if (typeof reason === 'string') {
      let declines = declineCounters.get(reason);
      if (declines === undefined) declineCounters.set(reason, (declines = metrics.declines.labels({ reason })));
      declines.inc();
    }
    for (const s of w.stages) {
      const observers = s.failed ? failedStages : completedStages;
      let observe = observers.get(s.stage);
      if (observe === undefined) observers.set(s.stage, (observe = makeFastObserver(metrics.stageSeconds, { stage: s.stage, status: s.failed ? 'failed' : 'completed' })));
      observe((s.endMs - s.startMs) / 1000);
    }
  };
}
