import type { Logger } from 'pino';
import type { Pool } from '../db/makePool.js';
import { toError } from '../domain/errors.js';
import { pruneRecords } from './pruneRecords.js';

export interface RetentionOptions {
  pool: Pool;
  days: number;
  intervalMs: number;
  logger: Logger;
  /** Counts a failed run (monitoring_retention_errors_total): one that keeps failing lets the records grow for good. */
  onError?: () => void;
  /** When the first run starts (30 s after start unless given; tests, which ask for every run, put it off). */
  firstRunDelayMs?: number;
  /** Clock (ms since the epoch), for tests. */
  now?: () => number;
}

/** Prunes monitoring records older than `days`, once shortly after start and then every `intervalMs`. */
export function startRetention(options: RetentionOptions): { stop(): void; runOnce(): Promise<void> } {
  const now = options.now ?? Date.now;
  let running: Promise<void> | undefined;
  const run = () => {
    running ??= (async () => {
      try {
        const cutoff = new Date(now() - options.days * 24 * 3600 * 1000);
        const deleted = await pruneRecords(options.pool, cutoff);
        if (deleted.requests + deleted.stages > 0) options.logger.info({ ...deleted, cutoff }, 'old monitoring records deleted');
      } catch (err) {
        options.onError?.();
        options.logger.warn({ err: toError(err) }, 'retention run failed; will try again');
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
  const first = setTimeout(() => void run(), options.firstRunDelayMs ?? 30_000);
  const every = setInterval(() => void run(), options.intervalMs);
  first.unref();
  every.unref();
  return {
    runOnce: run,
    stop() {
      clearTimeout(first);
      clearInterval(every);
    },
  };
}
