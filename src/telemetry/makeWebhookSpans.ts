import { type Attributes, type SpanContext, SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import { hrTimeDuration, millisToHrTime } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { ATTR } from './attributes.js';
import type { FinishedWebhook } from './finishedWebhook.js';
import { stageMetadataOf } from './makeWebhookRecord.js';
import type { SpanOrigin } from './otlpEnvelope.js';

/**
 * A finished webhook's trace as SDK span objects for the SDK's exporter (OTEL_EXPORTER_OTLP_PROTOCOL=http/json;
 * the protobuf export encodes the same spans directly, encodeOtlpSpans.ts): the root SERVER span, as the SDK
 * made it when it was one (its caller parent and trace state, links, status), then the stages as its children,
 * with the names, attributes, times and ids they have in the record. Made only for an exported trace, after the
 * answer, from the compact result.
 */
export function makeWebhookSpans(w: FinishedWebhook, origin: SpanOrigin): ReadableSpan[] {
  const rootContext: SpanContext = { traceId: w.traceId, spanId: w.spanId, traceFlags: TraceFlags.SAMPLED, traceState: w.parent?.traceState };
  const common = { events: [], ended: true, resource: origin.resource, instrumentationScope: origin.scope, droppedAttributesCount: 0, droppedEventsCount: 0, droppedLinksCount: 0 };
  const startTime = millisToHrTime(w.startMs);
  // As the SDK ends a span whose end is before its start: at its start.
  const endTime = millisToHrTime(Math.max(w.startMs, w.endMs));
  const root: ReadableSpan = {
    name: w.name,
    kind: SpanKind.SERVER,
    spanContext: () => rootContext,
    parentSpanContext: w.parent,
    startTime,
    endTime,
    duration: hrTimeDuration(startTime, endTime),
    status: w.status === 'failed' ? { code: SpanStatusCode.ERROR, message: w.errorMessage ?? w.errorCode ?? 'failed' } : { code: SpanStatusCode.UNSET },
    attributes: w.attributes,
    links: w.links ?? [],
    ...common,
  };
  const stages = w.stages.map((s): ReadableSpan => {
    const context: SpanContext = { traceId: w.traceId, spanId: s.spanId, traceFlags: TraceFlags.SAMPLED };
    const start = millisToHrTime(s.startMs);
    const end = millisToHrTime(s.endMs);
    const attributes: Attributes = { [ATTR.record]: 'stage', [ATTR.stage]: s.stage, [ATTR.webhookId]: w.webhookId, ...stageMetadataOf(s) };
    return {
      name: s.stage,
      kind: SpanKind.INTERNAL,
      spanContext: () => context,
      parentSpanContext: rootContext,
      startTime: start,
      endTime: end,
      duration: hrTimeDuration(start, end),
      status: s.failed ? { code: SpanStatusCode.ERROR, message: s.errorMessage ?? '' } : { code: SpanStatusCode.UNSET },
      attributes,
      links: [],
      ...common,
    };
  });
  return [root, ...stages];
}
