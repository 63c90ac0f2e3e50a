import assert from 'node:assert/strict';
import { heapAfterMajorGcs } from '../bench/heapAfterMajorGcs.js';

const MiB = 1048576;

/** The soak's heap check: the heap after a major collection at its start and at its end. */
describe('bench heap after major collections: start and end of the soak', () => {
  it('takes the collection before the soak as its start, and the last reading as its end', () => {
    const r = heapAfterMajorGcs([{ heapAfterGcBytes: 37 * MiB, majorGcs: 4 }, { heapAfterGcBytes: 38 * MiB, majorGcs: 6 }], 4);
    assert.deepEqual(r, { first: 37 * MiB, last: 38 * MiB, majorGcs: 2 });
  });

  it('takes a collection in the soak\'s first seconds as its start when none came before it', () => {
    const r = heapAfterMajorGcs([{ heapAfterGcBytes: 37 * MiB, majorGcs: 1 }, { heapAfterGcBytes: 37 * MiB, majorGcs: 2 }, { heapAfterGcBytes: 40 * MiB, majorGcs: 10 }], 0);
    assert.deepEqual(r, { first: 37 * MiB, last: 40 * MiB, majorGcs: 10 });
  });

  it('has no figure when the end comes from the start\'s own collection, or when there was none', () => {
    assert.deepEqual(heapAfterMajorGcs([{ heapAfterGcBytes: 37 * MiB, majorGcs: 1 }, { heapAfterGcBytes: 37 * MiB, majorGcs: 1 }], 0), { first: NaN, last: NaN, majorGcs: 1 });
    assert.deepEqual(heapAfterMajorGcs([{ heapAfterGcBytes: 0, majorGcs: 0 }, { heapAfterGcBytes: 0, majorGcs: 0 }], 0), { first: NaN, last: NaN, majorGcs: 0 });
    assert.deepEqual(heapAfterMajorGcs([], 0), { first: NaN, last: NaN, majorGcs: 0 });
  });
});
