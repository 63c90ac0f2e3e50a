import assert from 'node:assert/strict';
import { makeRandomHexSource } from '../src/telemetry/makeRandomHexSource.js';

describe('makeRandomHexSource', () => {
  it('draws ids of lower-case hex, 2 digits a byte, distinct across refills of its pool', () => {
    const next = makeRandomHexSource(8, 4);
    const ids = Array.from({ length: 50 }, next);
    for (const id of ids) assert.match(id, /^[0-9a-f]{16}$/);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('never gives an all-zero id (invalid as a trace or span id): it takes the next one', () => {
    let fills = 0;
    // The first pool holds a zero id between two others; the second starts with one.
    const fill = (pool: Buffer) => {
      fills += 1;
      pool.fill(0);
      if (fills === 1) {
        pool.fill(0xab, 0, 4);
        pool.fill(0xcd, 8, 12);
      } else pool.fill(0xef, 4, 8);
    };
    const next = makeRandomHexSource(4, 3, fill);
    assert.deepEqual([next(), next(), next()], ['abababab', 'cdcdcdcd', 'efefefef']);
    assert.equal(fills, 2);
  });
});
