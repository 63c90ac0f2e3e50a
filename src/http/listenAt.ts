import type { FastifyInstance, FastifyListenOptions } from 'fastify';
import { toError } from '../domain/errors.js';
import type { AcceptSockets } from './makeAcceptSockets.js';

/**
 * Starts `server` on host:port and returns the URL to reach it from this machine (a wildcard host is reached
 * on loopback). A failure names the settings to change, e.g. "OPS_HOST/OPS_PORT 127.0.0.1:9300: listen
 * EADDRINUSE", since two listeners now start and a bare EADDRINUSE does not say which.
 */
export async function listenAt(
  server: FastifyInstance,
  options: { host: string; port: number; settings: string; backlog?: number; acceptSockets?: AcceptSockets },
): Promise<string> {
  try {
    // reusePort (Node's listen option, not in Fastify's types) lets the extra accept sockets share the port.
    await server.listen({ host: options.host, port: options.port, backlog: options.backlog, reusePort: options.acceptSockets !== undefined } as FastifyListenOptions);
    await options.acceptSockets?.open(options.backlog ?? 511);
  } catch (err) {
    throw new Error(`${options.settings} ${options.host}:${options.port}: ${toError(err).message}`, { cause: err });
  }
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host.includes(':') ? `[${options.host}]` : options.host;
  return `http://${host}:${port}`;
}
