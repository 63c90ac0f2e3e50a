import type { Logger } from 'pino';
import type { Pool } from '../db/makePool.js';
import { toError } from '../domain/errors.js';
import { pruneRecords } from './pruneRecords.js';

/** Prunes monitoring records older than `days`, once shortly after start and then every `intervalMs`. */
export function startRetention(options: { pool: Pool; days: number; intervalMs: number; logger: Logger }): { stop(): void } {
  let running = false;
  const run = async () => {
    if (running) return;
    running = true;
    try {
      const cutoff = new Date(Date.now() - options.days * 24 * 3600 * 1000);
      const deleted = await pruneRecords(options.pool, cutoff);
      if (deleted.requests + deleted.stages > 0) options.logger.info({ ...deleted, cutoff }, 'old monitoring records deleted');
    } catch (err) {
      options.logger.warn({ err: toError(err) }, 'retention run failed; will try again');
    } finally {
      running = false;
    }
  };
  const first = setTimeout(() => void run(), 30_000);
  const every = setInterval(() => void run(), options.intervalMs);
  first.unref();
  every.unref();
  return {
    stop() {
      clearTimeout(first);
      clearInterval(every);
    },
  };
}
