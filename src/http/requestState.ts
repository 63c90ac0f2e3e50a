import type { FastifyInstance } from 'fastify';
import type { WebhookError } from '../domain/errors.js';
import type { AcceptedAnswer } from '../domain/types.js';
import type { WebhookContext } from '../pipeline/processWebhook.js';

/** A webhook's state while its request is handled (set by the webhook route's onRequest). */
export interface WebhookState extends WebhookContext {
  answer?: AcceptedAnswer;
  /** The body was read and the pipeline started: its answer (onSend) finishes the webhook, whatever the client does. */
  bodyRead: boolean;
  /** When the body had been read (performance.now()): the load shedder times answers from here, not counting the upload. */
  bodyReadAtMs?: number;
  finished: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    receivedAt: Date;
    webhook?: WebhookState;
    /** The error answered, set by sendError, for the webhook's record and trace. */
    webhookError?: WebhookError;
  }
}

/**
 * Declares the per-request properties above on a server (Fastify's decorateRequest), so that every request object
 * has the same shape from its start instead of growing new properties on the way.
 */
export function declareRequestState(app: FastifyInstance): void {
  app.decorateRequest('receivedAt');
  app.decorateRequest('webhook');
  app.decorateRequest('webhookError');
}
