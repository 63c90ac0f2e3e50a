import { randomFillSync } from 'node:crypto';

/** Trace ids drawn from one pooled random buffer: one system call per 256 ids instead of one per id. */
const POOL_IDS = 256;
const pool = Buffer.alloc(16 * POOL_IDS);
let next = POOL_IDS;

/** A random, valid (not all zeros) trace id: 32 lower-case hex digits, as the SDK's own id generator makes them. */
export function makeTraceId(): string {
  for (;;) {
    if (next >= POOL_IDS) {
      randomFillSync(pool);
      next = 0;
    }
    const offset = 16 * next++;
    if (pool.readBigUInt64BE(offset) !== 0n || pool.readBigUInt64BE(offset + 8) !== 0n) return pool.toString('hex', offset, offset + 16);
  }
}
