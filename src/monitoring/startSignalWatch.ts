import type { Logger } from 'pino';
import type { Pool } from '../db/makePool.js';
import { toError } from '../domain/errors.js';
import { detectPositionGaps } from './detectPositionGaps.js';
import { refreshStrategyActivity } from './refreshStrategyActivity.js';

export interface SignalWatchOptions {
  pool: Pool;
  intervalMs: number;
  lookbackMs: number;
  logger: Logger;
  /** Counts a failed run (tradingview_watch_errors_total). */
  onError?: () => void;
}

/**
 * The periodic job that reads the signals for what did not arrive: position gaps (missed alerts) and each
 * strategy's rhythm (silence). It runs off the request path, first a second after start, then every
 * `intervalMs`; a run that fails is logged and counted, and the next one tries again.
 */
export function startSignalWatch(options: SignalWatchOptions): { stop(): Promise<void>; runOnce(): Promise<void> } {
  let running: Promise<void> | undefined;
  const run = () => {
    running ??= (async () => {
      try {
        const gaps = await detectPositionGaps(options.pool, { lookbackMs: options.lookbackMs });
        await refreshStrategyActivity(options.pool, { lookbackMs: options.lookbackMs });
        if (gaps.opened > 0 || gaps.closed > 0) options.logger.warn({ ...gaps }, 'position gaps changed: alerts missing from TradingView (see GET /api/monitoring/gaps)');
      } catch (err) {
        options.onError?.();
        options.logger.warn({ err: toError(err) }, 'signal watch run failed; will try again');
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
  const first = setTimeout(() => void run(), 1_000);
  const every = setInterval(() => void run(), options.intervalMs);
  first.unref();
  every.unref();
  return {
    runOnce: run,
    /** Stops the timers and waits for a run in progress (it uses the pool, which closes next). */
    async stop() {
      clearTimeout(first);
      clearInterval(every);
      await running;
    },
  };
}
