import assert from 'node:assert/strict';
import { makeUnrecordedEffects } from '../src/execution/makeUnrecordedEffects.js';
import type { SentEffect } from '../src/execution/sentEffect.js';
import { toStorableText } from '../src/domain/storableText.js';

const sent = (response?: unknown): SentEffect => ({
  outcome: 'forwarded',
  response,
  quantity: 1,
  price: 100,
  attempt: 1,
  startedAt: '2026-12-01T00:00:00.000Z',
  completedAt: '2026-12-01T00:00:00.100Z',
  traceId: null,
  run: 0,
});

describe('makeUnrecordedEffects', () => {
  it('gives a run\'s effect back once, and keeps each run apart', () => {
    const effects = makeUnrecordedEffects({ limit: 10, onDrop: () => assert.fail('nothing to drop') });
    effects.remember('s1:0', sent({ status: 200 }));
    assert.equal(effects.take('s1:1'), undefined, 'another run of the signal');
    assert.deepEqual(effects.take('s1:0'), sent({ status: 200 }));
    assert.equal(effects.take('s1:0'), undefined, 'taken');
  });

  it('keeps at most `limit`, dropping the oldest and counting every drop', () => {
    const dropped: Array<[string, number]> = [];
    const effects = makeUnrecordedEffects({ limit: 2, onDrop: (key, total) => dropped.push([key, total]) });
    for (const key of ['a:0', 'b:0', 'c:0', 'd:0']) effects.remember(key, sent());
    assert.equal(effects.size, 2);
    assert.deepEqual(dropped, [['a:0', 1], ['b:0', 2]]);
    assert.equal(effects.take('a:0'), undefined);
    assert.ok(effects.take('d:0'));
  });
});

describe('toStorableText', () => {
  it('replaces what Postgres cannot store (NUL, a lone surrogate) and leaves other text alone', () => {
    assert.equal(toStorableText('ok\u0000id\ud800'), 'ok\uFFFDid\uFFFD');
    assert.equal(toStorableText('ordre passé ✓'), 'ordre passé ✓');
  });
});
