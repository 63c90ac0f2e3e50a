import type { Logger } from 'pino';
import type { Pool } from '../db/makePool.js';
import { sqlStateOf } from '../db/sqlStateOf.js';
import { toError } from '../domain/errors.js';
import { countStuckSignals } from './countStuckSignals.js';
import { detectPositionGaps } from './detectPositionGaps.js';
import { refreshStrategyActivity } from './refreshStrategyActivity.js';
import { touchStrategyActivity } from './touchStrategyActivity.js';

/**
 * How far before the previous run a cheap run reads: a signal is stored with the receipt time it got up to
 * DB_TIMEOUT_MS (at most 60 s) earlier, and another process's clock may differ by a little.
 */
export const TOUCH_OVERLAP_MS = 5 * 60_000;

/**
 * The stuck-signal count looks up every signal waiting longer than HEALTH_QUEUE_MAX_AGE_SECONDS among the jobs: about
 * 1 ms with a worker keeping up, 390 ms of Postgres CPU with 250,000 waiting (a worker down for days, or the bench's
 * services, which run none; `node dist/bench/signalWatchCost.js`). A count whose statement took d ms in Postgres is
 * not run again for d × STUCK_COUNT_SPACING (about 0.1% of a core a process, then: every 6.5 minutes at 250,000), and
 * never later than STUCK_COUNT_MAX_SPACING_MS after the last; the gauge keeps its count meanwhile. A backlog that grows
 * while the worker is down must not make the watch a load of its own on the database the service writes to.
 */
export const STUCK_COUNT_SPACING = 1_000;
export const STUCK_COUNT_MAX_SPACING_MS = 15 * 60_000;
/** SQLSTATE of a statement cancelled at statement_timeout. */
const QUERY_CANCELED = '57014';

export interface SignalWatchOptions {
  pool: Pool;
  intervalMs: number;
  lookbackMs: number;
  /**
   * How often usual intervals are learned again from the whole lookback window; the runs in between only move
   * last-alert times forward (and add new strategies) from the signals since the previous run.
   */
  rhythmRefreshMs: number;
  logger: Logger;
  /** Clock (ms since the epoch), for tests. */
  now?: () => number;
  /** Counts a failed run (tradingview_watch_errors_total). */
  onError?: () => void;
  /** When the first run starts (1,000 ms after start unless given; tests, which ask for every run, put it off). */
  firstRunDelayMs?: number;
  /**
   * Stuck signals (countStuckSignals), counted at every run for `signals_stuck`: the only signals no other metric
   * sees (their job is gone, used up, or held by a dead worker), and the worst state a trade can be in.
   */
  stuck?: { afterSeconds: number; liveAttemptSeconds: number; onCount: (counted: { stuck: number; tookMs: number }) => void };
}

/**
 * The periodic job that reads the signals for what did not arrive: position gaps (missed alerts) and each
 * strategy's rhythm (silence); and for what will not settle by itself: stuck signals. It runs off the request path, first a second after start, then every
 * `intervalMs`; a part of a run that fails (the gaps, the rhythm) is logged and counted, the other part still runs, and
 * the next run tries again. The first run, and one
 * every `rhythmRefreshMs`, learns usual intervals from the whole window; the others read only the signals since
 * the run before (TOUCH_OVERLAP_MS earlier).
 */
export function startSignalWatch(options: SignalWatchOptions): { stop(): Promise<void>; runOnce(): Promise<void> } {
  const now = options.now ?? Date.now;
  let running: Promise<void> | undefined;
  let lastRunAt: number | undefined;
  let lastRhythmAt = -Infinity;
  /** A failed part of a run: logged and counted; the next run tries again. */
  const report = (err: unknown, what: string) => {
    options.onError?.();
    options.logger.warn({ err: toError(err) }, `signal watch: ${what} failed; will try again`);
  };

  /** Position gaps. Its own failure stops nothing else: the strategies' rhythm is read all the same. */
  async function watchGaps(at: number): Promise<void> {
    try {
      const gaps = await detectPositionGaps(options.pool, { lookbackMs: options.lookbackMs, now: new Date(at) });
      if (gaps.opened > 0 || gaps.closed > 0) options.logger.warn({ ...gaps }, 'position gaps changed: alerts missing from TradingView (see GET /api/monitoring/gaps)');
    } catch (err) {
      report(err, 'position gap detection');
    }
  }

  /** Each strategy's last alert time, and now and then its usual interval. */
  async function watchRhythm(at: number): Promise<void> {
    // A clock set back (NTP stepping a clock that ran ahead, a restored VM) would otherwise put the next
    // refresh off by as long as it went back, and strategies seen meanwhile would have no usual interval.
    const previous = lastRunAt;
    try {
      if (previous === undefined || at < previous || at - lastRhythmAt >= options.rhythmRefreshMs) {
        try {
          await refreshStrategyActivity(options.pool, { lookbackMs: options.lookbackMs, now: new Date(at) });
          lastRhythmAt = at;
        } catch (err) {
          // Last alert times must still move: a refresh that keeps failing (past the statement timeout over a
          // large week) would otherwise freeze them, and every strategy would look silent. The refresh is tried
          // again at the next run.
          if (previous === undefined) throw err;
          // Due again at the next run, even when the clock went back (lastRhythmAt would be in the future).
          lastRhythmAt = -Infinity;
          report(err, 'learning usual intervals (last alert times moved on)');
          await touchStrategyActivity(options.pool, { since: new Date(Math.min(previous, at) - TOUCH_OVERLAP_MS) });
        }
      } else {
        await touchStrategyActivity(options.pool, { since: new Date(previous - TOUCH_OVERLAP_MS) });
      }
      lastRunAt = at;
    } catch (err) {
      report(err, 'reading the strategies\' rhythm');
    }
  }

  let lastStuckAt = -Infinity;
  let nextStuckAt = -Infinity;
  /** Stuck signals: a probe of the jobs per signal unchanged for afterSeconds, so on this cadence, not per scrape. */
  async function watchStuck(at: number): Promise<void> {
    const stuck = options.stuck;
    // Spaced by what the last count cost (STUCK_COUNT_SPACING); a clock set back does not put it off.
    if (!stuck || (at < nextStuckAt && at >= lastStuckAt)) return;
    // What the count cost Postgres. A count that failed is tried again at the next run, unless Postgres cancelled it
    // at its statement timeout: that one cost the timeout (a pool busy with signals, or a lost connection, cost it
    // nothing). Meanwhile the gauge keeps its last count, and the failure is counted (alert SignalWatchFailing).
    const started = performance.now();
    let tookMs = 0;
    try {
      const counted = await countStuckSignals(options.pool, stuck.afterSeconds, stuck.liveAttemptSeconds);
      tookMs = counted.tookMs;
      stuck.onCount(counted);
    } catch (err) {
      if (sqlStateOf(err) === QUERY_CANCELED) tookMs = performance.now() - started;
      report(err, 'counting stuck signals');
    }
    lastStuckAt = at;
    nextStuckAt = at + Math.min(STUCK_COUNT_MAX_SPACING_MS, tookMs * STUCK_COUNT_SPACING);
  }

  const run = () => {
    running ??= (async () => {
      try {
        const at = now();
        await watchGaps(at);
        await watchRhythm(at);
        // Last: the dearest of the three in a backlog, it never holds up the other two.
        await watchStuck(at);
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
  const first = setTimeout(() => void run(), options.firstRunDelayMs ?? 1_000);
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
