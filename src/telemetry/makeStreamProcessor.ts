import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';
import { ATTR } from './attributes.js';
import { requestRecordOf } from './spanToRecords.js';
import { streamEventOf, type WebhookStream } from './webhookStream.js';

/** Feeds each webhook's root span, as its record, to the live streams; costs nothing while none is open. */
export function makeStreamProcessor(stream: WebhookStream): SpanProcessor {
  return {
    onStart: () => undefined,
    onEnd(span: ReadableSpan) {
      if (span.attributes[ATTR.record] !== 'request' || !stream.hasListeners()) return;
      stream.publish(streamEventOf(requestRecordOf(span)));
    },
    forceFlush: async () => undefined,
    shutdown: async () => undefined,
  };
}
