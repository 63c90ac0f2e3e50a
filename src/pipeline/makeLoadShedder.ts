import { performance as nodePerformance } from 'node:perf_hooks';
import { WebhookError } from '../domain/errors.js';

/** TradingView resends a 503 five seconds later (up to 3 times); other senders are told the same. */
export const OVERLOAD_RETRY_AFTER_SECONDS = '5';

export interface LoopDelayGauge {
  /** Called by a repeating timer every `intervalMs`: the timer's lateness is the event loop's delay. */
  tick(): void;
  /**
   * How far behind it has been for three turns running (ms): the smallest of the last two turns' lateness and
   * the current one's. A lone long turn (a garbage collection, a burst) leaves it small; a standing queue, where
   * every turn is long, does not.
   */
  sustainedDelayMs(): number;
  /** The share of the last ten ticks' time the event loop was busy (0-1), from Node's event-loop utilisation. */
  busyFraction(): number;
}

/** Node's cumulative event-loop times (ms): performance.eventLoopUtilization(). */
export type LoopTimes = () => { active: number; idle: number };

/**
 * The event loop's delay, from the lateness of a timer due every `intervalMs`. While the loop is stuck in a
 * long turn (hundreds of requests read at once), the timer cannot run; the time since it was due then says
 * how long the requests read in this turn have waited, before the timer can. Also how busy the loop was:
 * a process that waits for a core (a loaded machine, a test suite) runs its timers late too, but is idle.
 */
export function makeLoopDelayGauge(
  intervalMs: number,
  now: () => number = () => performance.now(),
  loopTimes: LoopTimes = () => nodePerformance.eventLoopUtilization(),
): LoopDelayGauge {
  let lastTick = now();
  let lags = [0, 0];
  const window: Array<{ active: number; idle: number }> = [loopTimes()];
  return {
    tick() {
      const t = now();
      lags = [lags[1]!, Math.max(0, t - lastTick - intervalMs)];
      lastTick = t;
      window.push(loopTimes());
      if (window.length > 11) window.shift();
    },
    sustainedDelayMs() {
      return Math.min(lags[0]!, lags[1]!, now() - lastTick - intervalMs);
    },
    busyFraction() {
      const first = window[0]!;
      const last = window[window.length - 1]!;
      const active = last.active - first.active;
      const total = active + last.idle - first.idle;
      return total > 0 ? active / total : 0;
    },
  };
}

/** The event loop must have been at least this busy (share of the last ten ticks) for its delay to refuse. */
export const MIN_BUSY_FRACTION = 0.9;

export interface LoadShedder {
  /** Throws 503 WH_ERR_OVERLOADED (with Retry-After) when the service is too far behind to answer in time. */
  admit(): void;
  /** An admitted webhook was answered, `ms` after it was admitted. */
  answered(ms: number): void;
  stop(): void;
}

/** How often the loop's delay is sampled, and the window over which answers' times are judged (ms). */
const TICK_MS = 10;
const WINDOW_MS = 100;
/**
 * Answers a window needs before its times can show a standing queue: one slow answer among a few (a lock, a
 * slow query at a low rate) is not a queue, and refusing the next webhook for it would only lose an alert's first try.
 */
export const MIN_WINDOW_ANSWERS = 20;

/**
 * Admission control at the edge, before a webhook's body is read. Past the rate the machine sustains, requests
 * wait where no queue bound sees them: in the event loop, in the socket buffers, in the senders' own
 * connection queues; every answer grows late together (measured on the bench at twice the sustained rate:
 * p99 2.5 s, no 503, the signal writer's own wait always under its bound). Two signs of that standing queue
 * make new webhooks get a quick 503 with Retry-After (TradingView resends) instead:
 * - the event loop has been more than `maxDelayMs` behind for three turns running, and busy at least 90% of the
 *   time: every turn is long because more is read than the machine processes (a lone long turn, a garbage
 *   collection or a burst, is no queue; nor is a process that waits for a core on a loaded machine). Within
 *   a turn the webhooks read first are admitted and the rest refused, so each turn admits about `maxDelayMs` of
 *   work. 25 ms by default: a closed loop of 50 senders at the machine's rate makes turns of 10-20 ms, while
 *   at twice that rate with a 100 ms bound the admitted webhooks still waited 1.5-2 s (bench, 2 cores);
 * - every webhook answered in the last 100 ms (at least 20 of them) took more than `maxAnswerMs` (CoDel's rule:
 *   a queue that never empties, rather than a burst), as when the database is slow. Refused webhooks do not
 *   count; a quiet window ends it;
 * - the signal writer refused a signal past its queue's bound (SIGNAL_MAX_QUEUE_DELAY_MS) in the last 100 ms.
 *   Without this rule the writer was the one refusing when the database fell behind, each webhook after its
 *   body was read, parsed and authenticated, and the answers of 401s and of the writer's own quick refusals kept
 *   the rule above from seeing the queue. Once refusals before routing became cheap, two overload phases of the
 *   bench (2 cores, one of them in a full run) went that way: 86-88% of the wrong-secret webhooks got their 401,
 *   so nearly every webhook was admitted and read, answers took up to 3 s inside the service, and the p99 of all
 *   answers reached 2.4 and 5.1 s. Three phases alone with this rule: 0.64-1.49 s.
 * A refusal costs a fraction of processing a webhook, so the service catches up and those it admits are
 * answered in time. `maxDelayMs` 0 turns both off. (The excess only reaches the event loop because the port has
 * several accept sockets: see makeAcceptSockets.)
 */
export function makeLoadShedder(
  maxDelayMs: number,
  options: {
    maxAnswerMs?: number;
    gauge?: LoopDelayGauge;
    now?: () => number;
    /** When the signal writer last refused a signal past its queue's bound (the same clock as `now`). */
    writerRefusedAtMs?: () => number;
  } = {},
): LoadShedder {
  if (maxDelayMs <= 0) return { admit: () => undefined, answered: () => undefined, stop: () => undefined };
  const maxAnswerMs = options.maxAnswerMs ?? maxDelayMs;
  const now = options.now ?? (() => performance.now());
  const delay = options.gauge ?? makeLoopDelayGauge(TICK_MS, now);
  const timer = options.gauge ? undefined : setInterval(() => delay.tick(), TICK_MS);
  timer?.unref();
  let windowStart = now();
  let windowMin = Infinity;
  let windowAnswers = 0;
  let standingQueue = false;
  const roll = (t: number) => {
    if (t - windowStart < WINDOW_MS) return;
    // Only the window that just ended counts: one judged after a quiet spell says nothing about now.
    standingQueue = t - windowStart < 2 * WINDOW_MS && windowAnswers >= MIN_WINDOW_ANSWERS && windowMin > maxAnswerMs;
    windowStart = t;
    windowMin = Infinity;
    windowAnswers = 0;
  };
  const refuse = (why: string) =>
    new WebhookError(
      'WH_ERR_OVERLOADED',
      `The service is receiving more alerts than it can process right now (${why}), so this one was not accepted. TradingView resends on this answer; other senders should retry after Retry-After seconds.`,
      { headers: { 'Retry-After': OVERLOAD_RETRY_AFTER_SECONDS } },
    );
  return {
    admit() {
      const t = now();
      roll(t);
      const writerRefusedAt = options.writerRefusedAtMs?.() ?? -Infinity;
      if (t - writerRefusedAt < WINDOW_MS) throw refuse(`the database is behind: a signal waited past its bound in the last ${WINDOW_MS} ms`);
      if (standingQueue) throw refuse(`every answer in the last ${WINDOW_MS} ms took over ${maxAnswerMs} ms`);
      const behind = delay.sustainedDelayMs();
      if (behind > maxDelayMs && delay.busyFraction() >= MIN_BUSY_FRACTION) throw refuse(`${Math.round(behind)} ms behind for three turns of the event loop`);
    },
    answered(ms) {
      roll(now());
      windowAnswers += 1;
      if (ms < windowMin) windowMin = ms;
    },
    stop: () => clearInterval(timer),
  };
}
