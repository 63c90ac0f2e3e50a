import { RateLimiterMemory } from 'rate-limiter-flexible';
import { normaliseIp } from '../config/parseAddressList.js';
import { WebhookError } from '../domain/errors.js';

export interface AuthFailureLimiter {
  /** Throws 429 WH_ERR_RATE_LIMITED (with Retry-After) while `clientIp` has used up its failures. */
  check(clientIp: string): Promise<void>;
  /** Counts one failed attempt against `clientIp`. */
  fail(clientIp: string): Promise<void>;
}

/**
 * Caps token guessing: at most `maxFailures` wrong tokens per client address per window of `windowSeconds`
 * (a fixed window from the first failure); after that every attempt from the address, even with the right
 * token, is refused unchecked until the window ends. At the default 10 per 300 s, guessing a 16-character
 * token is hopeless. In memory (rate-limiter-flexible): no database work, limits are per instance, and a key
 * lives for one window, so memory is bounded by the addresses that failed in the last window.
 * Check and count are separate steps with no I/O between them, so requests that arrive in the same instant
 * can overrun the cap by at most those few.
 */
export function makeAuthFailureLimiter(maxFailures: number, windowSeconds: number): AuthFailureLimiter {
  const failures = new RateLimiterMemory({ points: maxFailures, duration: windowSeconds });
  return {
    async check(clientIp) {
      const ip = normaliseIp(clientIp);
      const state = await failures.get(ip);
      if (!state || state.consumedPoints < maxFailures) return;
      const retryAfterSeconds = Math.max(1, Math.ceil(state.msBeforeNext / 1000));
      throw new WebhookError(
        'WH_ERR_RATE_LIMITED',
        `Too many wrong admin tokens from ${ip}: ${maxFailures} within ${windowSeconds} s (ADMIN_AUTH_MAX_FAILURES, ADMIN_AUTH_WINDOW_SECONDS). Retry after ${retryAfterSeconds} s.`,
        { headers: { 'Retry-After': String(retryAfterSeconds) }, details: { maxFailures, windowSeconds, retryAfterSeconds } },
      );
    },
    async fail(clientIp) {
      await failures.penalty(normaliseIp(clientIp), 1);
    },
  };
}
