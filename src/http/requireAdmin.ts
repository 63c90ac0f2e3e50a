import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { WebhookError } from './errors.js';

/** A preHandler that lets through only `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time. */
export function makeRequireAdmin(adminToken: string) {
  const expected = createHash('sha256').update(adminToken).digest();
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization;
    const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
    if (!match?.[1]) {
      throw new WebhookError('WH_ERR_UNAUTHORIZED', 'Send Authorization: Bearer <ADMIN_TOKEN>.');
    }
    const given = createHash('sha256').update(match[1].trim()).digest();
    if (!timingSafeEqual(given, expected)) {
      throw new WebhookError('WH_ERR_UNAUTHORIZED', 'The admin token does not match ADMIN_TOKEN.');
    }
  };
}
