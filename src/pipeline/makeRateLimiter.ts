import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { WebhookError } from '../http/errors.js';

export type RateLimiter = (clientIp: string) => Promise<void>;

/**
 * Per-client-IP limit over a rolling minute (rate-limiter-flexible, in memory: the limit is per instance, and
 * costs no database round trip on the request path). Keys expire after a minute, so memory is bounded by the
 * number of distinct IPs seen in the last minute. `perMinute` 0 turns it off.
 */
export function makeRateLimiter(perMinute: number): RateLimiter {
  if (perMinute === 0) return async () => undefined;
  const limiter = new RateLimiterMemory({ points: perMinute, duration: 60 });
  return async (clientIp) => {
    try {
      await limiter.consume(clientIp, 1);
    } catch (thrown) {
      if (thrown instanceof RateLimiterRes) {
        const retryAfterSeconds = Math.max(1, Math.ceil(thrown.msBeforeNext / 1000));
        throw new WebhookError(
          'WH_ERR_RATE_LIMITED',
          `Too many requests from ${clientIp}: the limit is ${perMinute} per minute. Retry after ${retryAfterSeconds} s.`,
          { headers: { 'Retry-After': String(retryAfterSeconds) }, details: { limitPerMinute: perMinute, retryAfterSeconds } },
        );
      }
      throw thrown;
    }
  };
}
