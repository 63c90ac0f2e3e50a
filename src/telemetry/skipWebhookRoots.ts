import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';
import { ATTR } from './attributes.js';

/**
 * A span processor that never sees webhooks' root spans (webhook.record = request): with the protobuf export,
 * OtlpWebhookExporter exports them with their stages, so the SDK's batch processor would send them twice. The
 * other SDK spans (the worker's execution, an operator's retry) go through as before.
 */
export function skipWebhookRoots(processor: SpanProcessor): SpanProcessor {
  return {
    onStart: (span, context) => processor.onStart(span, context),
    onEnd(span: ReadableSpan) {
      if (span.attributes[ATTR.record] !== 'request') processor.onEnd(span);
    },
    forceFlush: () => processor.forceFlush(),
    shutdown: () => processor.shutdown(),
  };
}
