import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/parseConfig.js';
import type { Lifecycle } from '../domain/lifecycle.js';
import { WebhookError } from '../domain/errors.js';
import { declareRequestState } from './requestState.js';
import { registerSecurityHeaders } from './registerSecurityHeaders.js';
import { serverOptions } from './serverOptions.js';
import { sendError } from './sendError.js';

/**
 * The operations listener (OPS_HOST:OPS_PORT, loopback by default): `/metrics`, `/healthz`, `/readyz`, and the
 * admin API when ADMIN_API_ON_OPS=true. makeServer registers those routes on it. It is a server of its own so
 * that only the webhook needs to be reachable from the internet: Prometheus scrapes this one on a private
 * network, and a stranger who finds the public address finds nothing else there.
 */
export async function makeOpsServer(deps: { config: Config; logger: Logger; lifecycle: Lifecycle }): Promise<FastifyInstance> {
  const { config } = deps;
  // The admin API reads no bodies; the bound is the webhook's, so nothing here is larger than there.
  const ops = Fastify(serverOptions(config, deps.logger));
  ops.server.headersTimeout = config.http.headersTimeoutMs;
  declareRequestState(ops);
  registerSecurityHeaders(ops);
  ops.addHook('onSend', async (_request, reply) => {
    if (deps.lifecycle.state === 'draining') void reply.header('connection', 'close');
  });
  ops.setErrorHandler((error, request, reply) => sendError(request, reply, error));
  ops.setNotFoundHandler((request, reply) =>
    sendError(request, reply, new WebhookError('WH_ERR_NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]} on the operations address.`)),
  );
  return ops;
}
