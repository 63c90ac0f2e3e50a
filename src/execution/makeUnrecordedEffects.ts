import type { SentEffect } from './sentEffect.js';

/**
 * Sent orders whose execution could not be recorded, kept in this process too: `signals.unrecorded_effect` keeps
 * them for any worker, but with Postgres away that statement fails as well, and then this is what keeps this
 * worker's next attempt of the signal from sending the order again. Keyed by signal and run (`signalId:retries`).
 * Lost when the process ends.
 */
export interface UnrecordedEffects {
  remember(key: string, effect: SentEffect): void;
  /** The effect kept for this run, removed. */
  take(key: string): SentEffect | undefined;
  forget(key: string): void;
  readonly size: number;
}

/**
 * At most `limit` are kept; past it the oldest is dropped, and `onDrop` hears of it (with the running count) so the
 * worker can log it. Entries live from one attempt to the next, so reaching the bound takes that many signals
 * waiting for a retry after their orders went out, at once.
 */
export function makeUnrecordedEffects(options: { limit: number; onDrop: (key: string, droppedTotal: number) => void }): UnrecordedEffects {
  const kept = new Map<string, SentEffect>();
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
