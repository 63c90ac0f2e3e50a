import { type Attributes, type SpanContext, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { hrTimeDuration, millisToHrTime } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { ATTR } from './attributes.js';
import type { FinishedWebhook } from './finishedWebhook.js';
import { stageMetadataOf } from './makeWebhookRecord.js';

/**
 * A finished webhook's stages as SDK spans for the SDK's exporter (OTEL_EXPORTER_OTLP_PROTOCOL=http/json; the
 * protobuf export encodes them directly, encodeOtlpSpans.ts): children of its root span, with the names,
 * attributes, times and ids they have in its record. Made only for an exported trace, after the answer, from the
 * compact result; the root span (an SDK span) gives their resource and instrumentation scope.
 */
export function makeStageSpans(w: FinishedWebhook): ReadableSpan[] {
  const root = w.root as unknown as ReadableSpan;
  const parent = root.spanContext();
  return w.stages.map((s) => {
    const context: SpanContext = { traceId: parent.traceId, spanId: s.spanId, traceFlags: parent.traceFlags };
    const startTime = millisToHrTime(s.startMs);
    const endTime = millisToHrTime(s.endMs);
    const attributes: Attributes = { [ATTR.record]: 'stage', [ATTR.stage]: s.stage, [ATTR.webhookId]: w.webhookId, ...stageMetadataOf(s) };
    return {
      name: s.stage,
      kind: SpanKind.INTERNAL,
      spanContext: () => context,
      parentSpanContext: parent,
      startTime,
      endTime,
      duration: hrTimeDuration(startTime, endTime),
      status: s.failed ? { code: SpanStatusCode.ERROR, message: s.errorMessage ?? '' } : { code: SpanStatusCode.UNSET },
      attributes,
      links: [],
      events: [],
      ended: true,
      resource: root.resource,
      instrumentationScope: root.instrumentationScope,
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    };
  });
}
