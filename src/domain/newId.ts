import { randomFillSync } from 'node:crypto';
import { V7Generator } from 'uuidv7';

/**
 * A source of 32-bit random words for uuidv7's generator, drawn from one pooled buffer: one system call per
 * `poolWords` words. uuidv7's own source refills 8 words at a time, so its `getRandomValues` call (2.3 µs of
 * the main thread, most of what an id cost) came every two or three ids, and every webhook takes one or two ids
 * (its request, its signal). `fill` is the source of random bytes (a test's, to count refills).
 */
export function makeRandomWords(poolWords: number, fill: (pool: Uint32Array) => void = (pool) => void randomFillSync(pool)): { nextUint32(): number } {
  const pool = new Uint32Array(poolWords);
  let next = poolWords;
  return {
    nextUint32() {
      if (next >= poolWords) {
        fill(pool);
        next = 0;
      }
      return pool[next++]!;
    },
  };
}

/** 1,024 words (4 KiB): one refill per 300-500 ids. */
const generator = new V7Generator(makeRandomWords(1024));

/**
 * A new time-ordered id (UUIDv7, RFC 9562): webhooks, signals, executions. Monotonic within the process, as
 * uuidv7's generator keeps it (a counter within a millisecond, the last timestamp reused when the clock steps
 * back less than 10 s).
 */
export function newId(): string {
  return generator.generate().toString();
}
