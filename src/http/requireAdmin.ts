import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Metrics } from '../telemetry/makeMetrics.js';
import { WebhookError } from '../domain/errors.js';
import type { AuthFailureLimiter } from './makeAuthFailureLimiter.js';

/**
 * A preHandler that lets through only `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time.
 * A wrong token counts against the client's address (`limiter`); once it has too many, it gets 429 before its
 * token is even looked at. A request without a token is refused but not counted: it is not a guess.
 */
export function makeRequireAdmin(adminToken: string, deps: { limiter: AuthFailureLimiter; metrics: Metrics | undefined }) {
  const expected = createHash('sha256').update(adminToken).digest();
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    try {
      await deps.limiter.check(request.ip);
    } catch (err) {
      deps.metrics?.adminAuthFailures.inc({ outcome: 'rate_limited' });
      throw err;
    }
    const header = request.headers.authorization;
    const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
    if (!match?.[1]) {
      deps.metrics?.adminAuthFailures.inc({ outcome: 'missing' });
      throw new WebhookError('WH_ERR_UNAUTHORIZED', 'Send Authorization: Bearer <ADMIN_TOKEN>.');
    }
    const given = createHash('sha256').update(match[1].trim()).digest();
    if (!timingSafeEqual(given, expected)) {
      deps.metrics?.adminAuthFailures.inc({ outcome: 'invalid' });
      await deps.limiter.fail(request.ip);
      throw new WebhookError('WH_ERR_UNAUTHORIZED', 'The admin token does not match ADMIN_TOKEN.');
    }
  };
}
