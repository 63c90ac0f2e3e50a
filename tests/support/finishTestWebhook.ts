import { type Context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { type ReadableSpan, TracerProvider } from '@opentelemetry/sdk-trace';
import { ExportSampler, markCallerParent } from '../../src/telemetry/exportSampler.js';
import type { FinishedWebhook } from '../../src/telemetry/finishedWebhook.js';
import type { SpanOrigin } from '../../src/telemetry/otlpEnvelope.js';
import { getWebhookHub } from '../../src/telemetry/webhookHub.js';
import type { WebhookTrace, WebhookTracing } from '../../src/telemetry/webhookTrace.js';

/** A resource with every kind of attribute value and a schema URL. */
const RESOURCE = resourceFromAttributes(
  {
    'service.name': 'tv-webhook-test',
    'service.instance.id': 'instance-1',
    'process.pid': 4242,
    'host.load': 0.75,
    'test.flag': true,
    'process.command_args': ['node', '--import', 'x.js'],
  },
  { schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' },
);
const SCOPE = { name: 'tv-webhook', version: '1.2.3' };

/** Webhooks traced outside a running service: recorded, and exported by a sampler of their own (ratio 1). */
export const TEST_TRACING: WebhookTracing = { recording: true, sampler: new ExportSampler() };
/** The resource and scope their spans are exported with. */
export const TEST_ORIGIN: SpanOrigin = { resource: RESOURCE, scope: SCOPE };

/** Runs `traced` (which makes and finishes a WebhookTrace) and returns what it handed to the webhook hub. */
export function finishTestWebhook(traced: () => WebhookTrace): FinishedWebhook {
  const seen: FinishedWebhook[] = [];
  const detach = getWebhookHub().attach(
    (w) => void seen.push(w),
    (err) => {
      throw err;
    },
  );
  try {
    const trace = traced();
    const finished = seen.find((w) => w.webhookId === trace.webhookId);
    if (!finished) throw new Error('the webhook was not finished');
    return finished;
  } finally {
    detach();
  }
}

/** The ids the next SDK span gets (when it has no parent to take the trace id from). */
const nextIds = { traceId: '', spanId: '' };
const sdkTracer = new TracerProvider({
  resource: RESOURCE,
  sampler: new ExportSampler(),
  idGenerator: { generateTraceId: () => nextIds.traceId, generateSpanId: () => nextIds.spanId },
}).getTracer(SCOPE.name, SCOPE.version);

/**
 * A webhook's root span made by the OpenTelemetry SDK, as WebhookTrace made it while it was an SDK span: started
 * SERVER under the caller's parent with its links and first attributes, given the rest and its status at the
 * end, ended. With the webhook's own ids, so that it can be compared with the root span encoded from the result.
 */
export function sdkRootSpanOf(w: FinishedWebhook): ReadableSpan {
  nextIds.traceId = w.traceId;
  nextIds.spanId = w.spanId;
  const parent: Context = w.parent ? markCallerParent(trace.setSpanContext(ROOT_CONTEXT, w.parent)) : ROOT_CONTEXT;
  const span = sdkTracer.startSpan(
    w.name,
    { kind: SpanKind.SERVER, startTime: w.startMs, links: w.links, attributes: { 'webhook.id': w.webhookId, 'webhook.record': 'request' } },
    parent,
  );
  if (w.status === 'failed') span.setStatus({ code: SpanStatusCode.ERROR, message: w.errorMessage ?? w.errorCode ?? 'failed' });
  span.setAttributes(w.attributes);
  span.end(w.endMs);
  return span as unknown as ReadableSpan;
}
