import assert from 'node:assert/strict';
import { makeRandomWords, newId } from '../src/domain/newId.js';

describe('newId', () => {
  it('gives RFC 9562 version 7 ids, distinct and in the order they were made', () => {
    const ids = Array.from({ length: 5_000 }, newId);
    for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual([...ids].sort(), ids);
  });

  it('carries the time it was made in its first 48 bits', () => {
    const before = Date.now();
    const id = newId();
    const ms = Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    assert.ok(ms >= before && ms <= Date.now(), `${ms} outside [${before}, ${Date.now()}]`);
  });
});

describe('makeRandomWords', () => {
  it('refills its pool once per poolWords words, and gives the words the fill wrote', () => {
    let fills = 0;
    const words = makeRandomWords(4, (pool) => {
      fills += 1;
      for (let i = 0; i < pool.length; i += 1) pool[i] = fills * 100 + i;
    });
    assert.deepEqual(Array.from({ length: 9 }, () => words.nextUint32()), [100, 101, 102, 103, 200, 201, 202, 203, 300]);
    assert.equal(fills, 3);
  });

  it('draws from the system by default: two pools are not alike', () => {
    const a = makeRandomWords(64);
    const b = makeRandomWords(64);
    const first = Array.from({ length: 64 }, () => a.nextUint32());
    const second = Array.from({ length: 64 }, () => b.nextUint32());
    assert.notDeepEqual(first, second);
    assert.ok(new Set(first).size > 60);
  });
});
