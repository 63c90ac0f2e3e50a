import { WebhookError } from '../domain/errors.js';

/** TradingView resends a 503 five seconds later (up to 3 times); other senders are told the same. */
export const OVERLOAD_RETRY_AFTER_SECONDS = '5';

export interface LoopDelayGauge {
  /** Called by a repeating timer every `intervalMs`: the timer's lateness is the event loop's delay. */
  tick(): void;
  /** How far behind the event loop is now (ms): the latest timer's lateness, or the time since it was due. */
  delayMs(): number;
}

/**
 * The event loop's delay, from the lateness of a timer due every `intervalMs`. While the loop is stuck in a
 * long turn (hundreds of requests read at once), the timer cannot run; the time since it was due then says
 * how long the requests read in this turn have waited, before the timer can.
 */
export function makeLoopDelayGauge(intervalMs: number, now: () => number = () => performance.now()): LoopDelayGauge {
  let lastTick = now();
  let lastLag = 0;
  return {
    tick() {
      const t = now();
      lastLag = Math.max(0, t - lastTick - intervalMs);
      lastTick = t;
    },
    delayMs() {
      return Math.max(lastLag, now() - lastTick - intervalMs);
    },
  };
}

export interface LoadShedder {
  /** Throws 503 WH_ERR_OVERLOADED (with Retry-After) when the service is too far behind to answer in time. */
  admit(): void;
  stop(): void;
}

const INTERVAL_MS = 10;

/**
 * Admission control at the edge, before a webhook's body is read. Past the rate the CPU sustains, requests
 * wait in the event loop (and the socket buffers before it) where no queue bound sees them, and every answer
 * grows late together (measured: p99 2.7 s at twice the sustained rate, past TradingView's 3 s timeout in the
 * worst case). When the loop is more than `maxDelayMs` behind, new webhooks get a quick 503 with Retry-After
 * (TradingView resends) instead, which costs a fraction of processing one, so the loop catches up and the
 * webhooks admitted are answered in time. `maxDelayMs` 0 turns it off.
 */
export function makeLoadShedder(maxDelayMs: number, gauge?: LoopDelayGauge): LoadShedder {
  if (maxDelayMs <= 0) return { admit: () => undefined, stop: () => undefined };
  const delay = gauge ?? makeLoopDelayGauge(INTERVAL_MS);
  const timer = gauge ? undefined : setInterval(() => delay.tick(), INTERVAL_MS);
  timer?.unref();
  return {
    admit() {
      const behind = delay.delayMs();
      if (behind <= maxDelayMs) return;
      throw new WebhookError(
        'WH_ERR_OVERLOADED',
        `The service is receiving more alerts than it can process right now (${Math.round(behind)} ms behind), so this one was not accepted. TradingView resends on this answer; other senders should retry after Retry-After seconds.`,
        { headers: { 'Retry-After': OVERLOAD_RETRY_AFTER_SECONDS } },
      );
    },
    stop: () => clearInterval(timer),
  };
}
