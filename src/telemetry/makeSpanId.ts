import { randomFillSync } from 'node:crypto';

/** Span ids drawn from one pooled random buffer: one system call per 512 ids instead of one per id. */
const POOL_IDS = 512;
const pool = Buffer.alloc(8 * POOL_IDS);
let next = POOL_IDS;

/** A random, valid (non-zero) span id: 16 lower-case hex digits. */
export function makeSpanId(): string {
  for (;;) {
    if (next >= POOL_IDS) {
      randomFillSync(pool);
      next = 0;
    }
    const offset = 8 * next++;
    if (pool.readBigUInt64BE(offset) !== 0n) return pool.toString('hex', offset, offset + 8);
  }
}
