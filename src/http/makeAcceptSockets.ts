import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';

/** The server events Fastify handles; every extra socket's server hands them to the same handlers. */
const SHARED_EVENTS = ['request', 'clientError', 'checkContinue', 'checkExpectation', 'upgrade'] as const;

export interface AcceptSockets {
  /** Opens the extra listening sockets on the address the app listens on (call after the app listens). */
  open(backlog: number): Promise<void>;
}

/**
 * Several listening sockets on the webhook port (SO_REUSEPORT), all answered by the one Fastify app.
 *
 * Why: libuv accepts at most one connection per listening socket per event-loop turn (libuv PR 3696, in every
 * Node since 20). Under load a turn serves hundreds of readable connections and lasts tens of milliseconds, so
 * a single socket accepted about 35 connections a second (strace on a bare node:http server at 1.5 x its rate):
 * senders on open keep-alive connections were answered in 55 ms while new connections waited 2-3 s in the
 * kernel's accept queue, where no bound of the service sees them and none can refuse them. With many sockets the
 * kernel spreads new connections over them and a turn accepts one from each, so the excess arrives inside the
 * service, where the load shedder sees the late turns and refuses it with a quick 503 (the same bare server at
 * 1.5 x its rate: p99 227 ms and no accept queue, against 3 s with one socket and the same shedder). 1,024 by
 * default: on the bench at 9,000 webhooks/s (twice the service's closed-loop rate, 1,000-3,000 new connections a
 * half-second) the p99 of all answers was 466-669 ms with 1,024 (eight runs) against 606-1,245 with 256 (five),
 * 462-662 with 2,048; at 7,600/s 455-482 against 473-540. Idle, the sockets' servers check their connections once
 * a second each: 5.0 against 3.4 ms of CPU a second for 256. (At 5,400/s with the shedder of 2026-11-29, 1,024 was
 * within the noise of 256.)
 *
 * Linux only lets sockets of the same user share a port this way; a `checkPortFree` probe before start still
 * refuses a port another program holds.
 */
export function makeAcceptSockets(app: FastifyInstance, count: number, connectionsCheckingIntervalMs: number): AcceptSockets {
  const servers: http.Server[] = [];
  let closed: Promise<void[]> | undefined;
  // Stop accepting with the app's own socket (preClose), wait for in-flight requests with it (onClose).
  app.addHook('preClose', async () => {
    closed = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    for (const s of servers) s.closeIdleConnections();
  });
  app.addHook('onClose', async () => {
    await closed;
  });
  return {
    async open(backlog) {
      const main = app.server;
      const address = main.address() as AddressInfo;
      for (let i = 1; i < count; i += 1) {
        // Timeouts are assigned, as Fastify does for its own server: given to the constructor, Node refuses a
        // headers timeout above the request timeout (ERR_OUT_OF_RANGE), which the settings allow.
        const server = http.createServer({ connectionsCheckingInterval: connectionsCheckingIntervalMs });
        server.requestTimeout = main.requestTimeout;
        server.headersTimeout = main.headersTimeout;
        server.keepAliveTimeout = main.keepAliveTimeout;
        server.timeout = main.timeout;
        server.maxRequestsPerSocket = main.maxRequestsPerSocket;
        server.maxHeadersCount = main.maxHeadersCount;
        for (const event of SHARED_EVENTS) for (const listener of main.listeners(event)) server.on(event, listener as (...args: unknown[]) => void);
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ host: address.address, port: address.port, backlog, reusePort: true }, () => {
            server.off('error', reject);
            resolve();
          });
        });
        servers.push(server);
      }
    },
  };
}
