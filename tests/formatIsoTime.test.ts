import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatIsoTime } from '../src/telemetry/formatIsoTime.js';

describe('formatIsoTime: toISOString\'s text, the second made once', () => {
  it('is toISOString\'s text for any time, in any order (seconds repeated, going back, fractional ms, any year)', () => {
    const near = Date.UTC(2026, 10, 30, 12, 0, 0);
    const time = fc.oneof(
      fc.double({ min: near - 5_000, max: near + 5_000, noNaN: true }),
      fc.integer({ min: -8.64e15, max: 8.64e15 }),
      fc.constantFrom(0, -0.5, 0.999, 999.999, 1000, -1, Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(10000, 0, 1), 8.64e15),
    );
    fc.assert(fc.property(fc.array(time, { minLength: 1, maxLength: 30 }), (times) => {
      for (const ms of times) assert.equal(formatIsoTime(ms), new Date(ms).toISOString(), String(ms));
    }), { numRuns: 500 });
  });

  it('throws toISOString\'s RangeError for a time that is no date', () => {
    for (const ms of [NaN, Infinity, 8.64e15 + 1]) assert.throws(() => formatIsoTime(ms), RangeError);
  });
});
