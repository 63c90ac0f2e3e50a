import { type FastifyBaseLogger, type FastifyServerOptions, LogController } from 'fastify';
import type { Logger } from 'pino';
import { newId } from '../domain/newId.js';
import type { Config } from '../config/parseConfig.js';
import { answerClientError } from './answerClientError.js';
import { securityHeaders } from './registerSecurityHeaders.js';
import { sendError } from './sendError.js';

/**
 * Node checks slow connections only every 30 s by default, so a slow sender held a connection 11-30 s against
 * 5-10 s settings; checking every tenth of the shorter timeout (100 ms-1 s) enforces them within 10%.
 */
export function connectionsCheckingIntervalMs(config: Pick<Config, 'http'>): number {
  return Math.min(1000, Math.max(100, Math.floor(Math.min(config.http.headersTimeoutMs, config.http.requestTimeoutMs) / 10)));
}

/** What both listeners (public and operations) share: ids, logging, bounds and timeouts, and how they close. */
export function serverOptions(config: Pick<Config, 'http'>, logger: Logger): FastifyServerOptions {
  return {
    loggerInstance: logger as FastifyBaseLogger,
    // Every request, accepted or not, gets a time-ordered id: it is the webhookId in answers, logs and records.
    genReqId: () => newId(),
    requestIdHeader: false,
    // One outcome line per webhook is logged by the pipeline instead of Fastify's two lines per request.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.http.bodyLimitBytes,
    requestTimeout: config.http.requestTimeoutMs,
    keepAliveTimeout: config.http.keepAliveTimeoutMs,
    connectionTimeout: config.http.requestTimeoutMs,
    // A request that arrives while the listener closes (its headers completed after shutdown began, on a
    // connection that was busy) goes through the routes like any other: a webhook is processed, recorded and
    // answered with Connection: close (makeServer's onSend hook). Fastify's own 503 here had none of that: no
    // record, no count, no Retry-After, no security headers. Shutdown stays bounded by SHUTDOWN_TIMEOUT_MS.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    http: { connectionsCheckingInterval: connectionsCheckingIntervalMs(config) },
    // Answers what Node's HTTP parser refuses (a malformed request, a slow sender) with our codes, and tells the
    // webhook's record why its connection ended.
    clientErrorHandler: answerClientError,
    // A URL Fastify cannot route (bad percent-encoding, an over-long path segment) is answered before any hook
    // runs: by default a bare 400 in Fastify's own shape. It gets our error answer and the security headers.
    frameworkErrors: (error, request, reply) => sendError(request, reply.headers(securityHeaders()), error),
  } as FastifyServerOptions;
}
