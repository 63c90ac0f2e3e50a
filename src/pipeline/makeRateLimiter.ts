import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { WebhookError } from '../domain/errors.js';

export type RateLimiter = (clientIp: string) => Promise<void>;

/**
 * What one process lets through per client IP and minute when a client's requests are spread over
 * `processCount` web processes: ceil(perMinute / processCount). Rounding up never lets a limit of 1 or more
 * fall to 0; the total over the processes is at most perMinute + processCount - 1.
 */
export function rateLimitShare(perMinute: number, processCount: number): number {
  return Math.ceil(perMinute / processCount);
}

/**
 * Per-client-IP limit per minute (a window from the client's first request; rate-limiter-flexible, in memory: no database round trip, so a
 * flood of refused requests cannot become database load). Each process counts only what it sees, so with
 * `processCount` web processes behind a balancer that spreads a client's requests over them (round robin),
 * each enforces its share and together they enforce `perMinute`. Keys expire after a minute, so memory is
 * bounded by the number of distinct IPs seen in the last minute. `perMinute` 0 turns it off.
 */
export function makeRateLimiter(perMinute: number, processCount = 1): RateLimiter {
  if (perMinute === 0) return async () => undefined;
  const share = rateLimitShare(perMinute, processCount);
  const limiter = new RateLimiterMemory({ points: share, duration: 60 });
  const limitText =
    processCount === 1
      ? `the limit is ${perMinute} per minute`
      : `the limit is ${perMinute} per minute over ${processCount} processes, ${share} through this one (RATE_LIMIT_PROCESS_COUNT)`;
  return async (clientIp) => {
    try {
      await limiter.consume(clientIp, 1);
    } catch (thrown) {
      if (thrown instanceof RateLimiterRes) {
        const retryAfterSeconds = Math.max(1, Math.ceil(thrown.msBeforeNext / 1000));
        throw new WebhookError('WH_ERR_RATE_LIMITED', `Too many requests from ${clientIp}: ${limitText}. Retry after ${retryAfterSeconds} s.`, {
          headers: { 'Retry-After': String(retryAfterSeconds) },
          details: { limitPerMinute: perMinute, processLimitPerMinute: share, processCount, retryAfterSeconds },
        });
      }
      throw thrown;
    }
  };
}
