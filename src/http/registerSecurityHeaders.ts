import type { FastifyInstance } from 'fastify';
import helmet from 'helmet';
import { toError } from '../domain/errors.js';

/**
 * Helmet's security headers (nosniff, no framing, a strict Content-Security-Policy, ...) on every answer of a
 * listener. The middleware is built once, here: the @fastify/helmet plugin built it again for every request,
 * parsing the CSP directives each time (about 10 µs a request, the costliest library call on the bench's
 * profile of a refused webhook).
 */
export function registerSecurityHeaders(app: FastifyInstance): void {
  const setHeaders = helmet();
  app.addHook('onRequest', (request, reply, next) => setHeaders(request.raw, reply.raw, (err?: unknown) => next(err === undefined ? undefined : toError(err))));
}
