import type { Tracer } from '@opentelemetry/api';
import { defaultResource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { SpanOrigin } from './otlpEnvelope.js';

/**
 * The resource and instrumentation scope of `tracer`'s spans, for the spans made without it (a webhook's trace):
 * read from one span that is started and never ended, so never exported (the provider offers no public way to
 * read its resource). With it, a webhook's spans and the worker's SDK spans have the same resource, as before.
 * Without an SDK (OTEL_SDK_DISABLED=true, its tracer makes no recording span): the SDK's default resource.
 */
export function probeSpanOrigin(tracer: Tracer): SpanOrigin {
  const probe = tracer.startSpan('tv-webhook.resource-probe', { root: true }) as unknown as Partial<ReadableSpan>;
  if (probe.resource && probe.instrumentationScope) return { resource: probe.resource, scope: probe.instrumentationScope };
  return { resource: defaultResource(), scope: { name: 'tv-webhook' } };
}
