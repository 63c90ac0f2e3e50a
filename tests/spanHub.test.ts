import assert from 'node:assert/strict';
import { TracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { SpanHub } from '../src/telemetry/spanHub.js';

/** A consumer that keeps the names of the spans it saw, or throws on every call. */
function makeConsumer(behaviour: 'keep' | 'throw'): SpanProcessor & { ended: string[] } {
  const ended: string[] = [];
  return {
    ended,
    onStart: () => {
      if (behaviour === 'throw') throw new Error('consumer broke on start');
    },
    onEnd: (span: ReadableSpan) => {
      if (behaviour === 'throw') throw new Error('consumer broke on end');
      ended.push(span.name);
    },
    forceFlush: async () => undefined,
    shutdown: async () => undefined,
  };
}

describe('SpanHub: the one place a span consumer error is caught', () => {
  it("gives a throwing consumer's errors to its onError, and the other consumers still get every span", () => {
    const hub = new SpanHub();
    const errors: string[] = [];
    const broken = makeConsumer('throw');
    const healthy = makeConsumer('keep');
    hub.attach(broken, (err) => errors.push((err as Error).message));
    hub.attach(healthy, () => errors.push('healthy consumer reported an error'));
    const tracer = new TracerProvider({ spanProcessors: [hub] }).getTracer('test');

    assert.doesNotThrow(() => tracer.startSpan('webhook').end());

    assert.deepEqual(errors, ['consumer broke on start', 'consumer broke on end']);
    assert.deepEqual(healthy.ended, ['webhook']);
  });

  it('stops feeding a consumer once it is detached', () => {
    const hub = new SpanHub();
    const consumer = makeConsumer('keep');
    const detach = hub.attach(consumer, () => undefined);
    const tracer = new TracerProvider({ spanProcessors: [hub] }).getTracer('test');
    tracer.startSpan('first').end();
    detach();
    tracer.startSpan('second').end();
    assert.deepEqual(consumer.ended, ['first']);
  });
});
