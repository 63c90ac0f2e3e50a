import assert from 'node:assert/strict';
import { MAX_STAGES, rootSpanIdOf, spanIdPrefixOf, stageSpanIdOf } from '../src/telemetry/deriveSpanIds.js';
import { newId } from '../src/domain/newId.js';
import { extractParent, WebhookTrace } from '../src/telemetry/webhookTrace.js';
import { finishTestWebhook, TEST_TRACING } from './support/finishTestWebhook.js';

describe('deriveSpanIds: a webhook\'s span ids from its id', () => {
  it('takes the id\'s bytes 8-14 and ends with 00 for the root, the stage\'s ordinal for a stage', () => {
    const prefix = spanIdPrefixOf('01A22D4E-E02A-7E60-B5D1-EE6B7BFF8999');
    assert.equal(prefix, 'b5d1ee6b7bff89');
    assert.equal(rootSpanIdOf(prefix), 'b5d1ee6b7bff8900');
    assert.equal(stageSpanIdOf(prefix, 1), 'b5d1ee6b7bff8901');
    assert.equal(stageSpanIdOf(prefix, 255), 'b5d1ee6b7bff89ff');
    for (const bad of [0, 256, 1.5, -1]) assert.throws(() => stageSpanIdOf(prefix, bad), RangeError);
  });

  it('gives ids made in one millisecond different prefixes, and never an all-zero span id', () => {
    const ids = Array.from({ length: 5000 }, () => newId());
    const prefixes = new Set(ids.map(spanIdPrefixOf));
    assert.equal(prefixes.size, ids.length);
    for (const p of prefixes) assert.match(p, /^[89ab][0-9a-f]{13}$/);
  });

  it('draws a random prefix for an id that is not a uuid (no table stores such a webhook)', () => {
    const drawn = new Set(Array.from({ length: 100 }, () => spanIdPrefixOf('not-a-uuid')));
    assert.equal(drawn.size, 100);
    for (const p of drawn) {
      assert.match(p, /^[0-9a-f]{14}$/);
      assert.notEqual(p, '0'.repeat(14));
    }
  });

  it('WebhookTrace: the root and every stage take their derived ids; past MAX_STAGES - 1 stages the current one goes on', () => {
    const webhookId = newId();
    const prefix = spanIdPrefixOf(webhookId);
    const w = finishTestWebhook(() => {
      const trace = new WebhookTrace(TEST_TRACING, { name: 'POST /api/webhooks/tradingview', webhookId, parent: extractParent({}), startTime: Date.now(), attributes: {} });
      for (let i = 0; i < MAX_STAGES + 10; i++) trace.begin(i % 2 ? 'enriching' : 'deciding');
      trace.finish({ status: 'success', httpStatus: 200, rejection: false, extras: {} });
      return trace;
    });
    assert.equal(w.spanId, rootSpanIdOf(prefix));
    assert.equal(w.stages.length, MAX_STAGES);
    assert.deepEqual(w.stages.map((s) => s.spanId), Array.from({ length: MAX_STAGES }, (_, i) => stageSpanIdOf(prefix, i + 1)));
    assert.equal(w.stages.at(-1)!.stage, 'completed');
  });
});
