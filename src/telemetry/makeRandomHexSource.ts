import { randomFillSync } from 'node:crypto';

/**
 * A source of random ids of `bytes` bytes as lower-case hex, never all zeros (an invalid trace or span id),
 * drawn from one pooled random buffer: one system call per `poolIds` ids instead of one per id.
 */
export function makeRandomHexSource(bytes: number, poolIds: number): () => string {
  const pool = Buffer.alloc(bytes * poolIds);
  let next = poolIds;
  return () => {
    for (;;) {
      if (next >= poolIds) {
        randomFillSync(pool);
        next = 0;
      }
      const offset = bytes * next++;
      for (let i = offset; i < offset + bytes; i += 1) if (pool[i] !== 0) return pool.toString('hex', offset, offset + bytes);
    }
  };
}
