import type { ExecutionEffect } from './executor.js';

/**
 * Executions that happened (the order reached the target) but whose recording failed (the database away, a row it
 * refused), kept in this process until the signal's next attempt records them instead of executing again. Without
 * this, the next attempt sent the order again (a second order at a bridge that does not deduplicate), and the last
 * one marked the signal failed although its order went through. Keyed by signal and run (`signalId:retries`).
 * A worker that restarts meanwhile has lost them: its next attempt sends the order again, with the same
 * Idempotency-Key (the README's threat model says so).
 */
export interface UnrecordedEffects {
  remember(key: string, effect: ExecutionEffect): void;
  /** The effect kept for this run, removed. */
  take(key: string): ExecutionEffect | undefined;
  forget(key: string): void;
  readonly size: number;
}

/**
 * At most `limit` are kept; past it the oldest is dropped, and `onDrop` hears of it (with the running count) so the
 * worker can log it. Entries live from one attempt to the next, so reaching the bound takes that many signals
 * waiting for a retry after their orders went out, at once.
 */
export function makeUnrecordedEffects(options: { limit: number; onDrop: (key: string, droppedTotal: number) => void }): UnrecordedEffects {
  const kept = new Map<string, ExecutionEffect>();
  let droppedTotal = 0;
  return {
    remember(key, effect) {
      kept.delete(key);
      kept.set(key, effect);
      while (kept.size > options.limit) {
        const oldest = kept.keys().next().value as string;
        kept.delete(oldest);
        droppedTotal += 1;
        options.onDrop(oldest, droppedTotal);
      }
    },
    take(key) {
      const effect = kept.get(key);
      kept.delete(key);
      return effect;
    },
    forget(key) {
      kept.delete(key);
    },
    get size() {
      return kept.size;
    },
  };
}
