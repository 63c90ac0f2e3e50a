import type { FastifyInstance } from 'fastify';
import type { IpAllowlist } from '../config/parseIpAllowlist.js';
import { checkIpAllowlist } from '../pipeline/checkIpAllowlist.js';
import type { RateLimiter } from '../pipeline/makeRateLimiter.js';
import { processWebhook, type PipelineDeps } from '../pipeline/processWebhook.js';
import { WebhookError } from './errors.js';

export const WEBHOOK_PATH = '/api/webhooks/tradingview';

export interface WebhookRouteDeps extends PipelineDeps {
  rateLimit: RateLimiter;
  ipAllowlist: IpAllowlist | undefined;
  bodyLimitBytes: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    receivedAt: Date;
  }
}

export function registerWebhookRoute(app: FastifyInstance, deps: WebhookRouteDeps): void {
  app.route<{ Querystring: { token?: string } }>({
    method: 'POST',
    url: WEBHOOK_PATH,
    bodyLimit: deps.bodyLimitBytes,
    // Rate limit and allowlist run before the body is read: refusing a flood must cost as little as possible.
    onRequest: async (request) => {
      request.receivedAt = new Date();
      await deps.rateLimit(request.ip);
      checkIpAllowlist(deps.ipAllowlist, request.ip);
    },
    onResponse: async (request, reply) => {
      request.log.info(
        { webhookId: request.id, statusCode: reply.statusCode, durationMs: Math.round(reply.elapsedTime * 100) / 100, ip: request.ip },
        'webhook answered',
      );
    },
    handler: async (request) => {
      const token = request.query.token;
      return processWebhook(deps, {
        webhookId: request.id,
        receivedAt: request.receivedAt,
        contentType: request.headers['content-type'],
        raw: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
        headers: request.headers,
        queryToken: typeof token === 'string' ? token : undefined,
      });
    },
  });
  app.route({
    method: ['GET', 'PUT', 'PATCH', 'DELETE'],
    url: WEBHOOK_PATH,
    handler: async () => {
      throw new WebhookError('WH_ERR_METHOD_NOT_ALLOWED', 'Use POST: TradingView sends alerts as POST requests.', {
        headers: { Allow: 'POST' },
      });
    },
  });
}
