import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';
import { ATTR } from './attributes.js';
import type { RecordSink } from './recordSink.js';
import { requestRecordOf, stageRecordOf } from './spanToRecords.js';

/** Feeds a webhook's root span and stage spans to the Postgres sink (other spans are not records). */
export function makeSinkProcessor(sink: RecordSink): SpanProcessor {
  return {
    onStart: () => undefined,
    onEnd(span: ReadableSpan) {
      const kind = span.attributes[ATTR.record];
      if (kind === 'stage') sink.addStage(stageRecordOf(span));
      else if (kind === 'request') sink.addRequest(requestRecordOf(span));
    },
    forceFlush: () => sink.flushOnce(),
    shutdown: async () => undefined,
  };
}
