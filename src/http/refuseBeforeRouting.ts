import type { IncomingMessage, ServerResponse } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';
import type { Logger } from 'pino';
import type { IpAllowlist } from '../config/parseIpAllowlist.js';
import type { Lifecycle } from '../domain/lifecycle.js';
import { toError, WebhookError } from '../domain/errors.js';
import { newId } from '../domain/newId.js';
import { checkIpAllowlist } from '../pipeline/checkIpAllowlist.js';
import { finishWebhookTrace } from '../pipeline/finishWebhookTrace.js';
import type { LoadShedder } from '../pipeline/makeLoadShedder.js';
import type { RateLimiter } from '../pipeline/makeRateLimiter.js';
import type { WebhookTracing } from '../telemetry/webhookTrace.js';
import { clientAborted, clientErrorOf } from './answerClientError.js';
import { beginWebhookTrace, WEBHOOK_PATH } from './beginWebhookTrace.js';
import { statusOf } from './errors.js';
import { securityHeaders } from './registerSecurityHeaders.js';
import { errorBodyOf, logFault, toWebhookError } from './sendError.js';

export interface EarlyRefusalDeps {
  rateLimit: RateLimiter;
  /** Whether the rate limit is on (RATE_LIMIT_PER_MINUTE > 0): when off, a webhook is judged without a promise. */
  rateLimited: boolean;
  ipAllowlist: IpAllowlist | undefined;
  loadShedder: LoadShedder;
  lifecycle: Lifecycle;
  webhookTracing: WebhookTracing;
  logger: Logger;
  /** TRUST_PROXY's trust function, as Fastify was given it; undefined: the socket's peer is the client. */
  trustProxy: ((address: string, hop: number) => boolean) | undefined;
}

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** Set on a request whose checks (rate limit, allowlist, load shedding) all passed before routing. */
const ADMITTED = Symbol('admittedBeforeRouting');

/** Whether refuseBeforeRouting already admitted this request: the route must not count it against the limits twice. */
export function wasAdmittedBeforeRouting(req: IncomingMessage): boolean {
  return (req as IncomingMessage & { [ADMITTED]?: true })[ADMITTED] === true;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Webhooks refused on their headers alone (rate limit, IP allowlist, load shedding) are answered from Node's
 * request event, before Fastify routes them. Why: at twice the rate the service sustains, most webhooks are
 * refused, and the refusals alone took most of the event loop: through Fastify a refusal cost 90-105 µs of
 * the main thread with monitoring off, 137-157 µs with it, against 46 µs for a fixed 503 written from the
 * request event, and 73 and 100 µs for this one, recorded (`bench/requestCost.js --refuse --rate 3000`, 24,000
 * refusals a round). Fastify's request and reply objects, its hook chain, its error path and its header handling
 * were most of the difference.
 *
 * A refusal made here is the same as the route's, as its tests compare: the same checks in the same order, the
 * same status, headers (the security headers, Retry-After) and body, and the same trace, so the same record,
 * metrics and spans. Everything else goes on to Fastify: other paths and methods, webhooks admitted (marked, so
 * the route does not check them twice), and everything while the service drains (the route handles the
 * pipelined case). The body of a refused webhook is never read; Node discards it after the answer, as it does
 * for the route's refusals.
 */
export function refuseBeforeRouting(deps: EarlyRefusalDeps, route: RequestListener): RequestListener {
  const headers = securityHeaders();

  const clientAddress = (req: IncomingMessage): string | undefined => {
    if (!deps.trustProxy) return req.socket.remoteAddress;
    const addresses = proxyAddr.all(req, deps.trustProxy);
    return addresses[addresses.length - 1];
  };

  const writeAnswer = (res: ServerResponse, httpStatus: number, error: WebhookError, answer: object) => {
    const body = JSON.stringify(answer);
    res.writeHead(httpStatus, { ...headers, ...error.headers, 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };

  const refuse = (req: IncomingMessage, res: ServerResponse, ip: string, startMs: number, thrown: unknown) => {
    const error = toWebhookError(thrown);
    const id = newId();
    const httpStatus = statusOf(error);
    const trace = beginWebhookTrace(deps.webhookTracing, { id, method: 'POST', headers: req.headers, ip, startMs });
    finishWebhookTrace(trace, { httpStatus, error, headers: req.headers, extras: {} });
    const answer = errorBodyOf(error, id);
    logFault(error, answer, { error: (fields, message) => deps.logger.error({ ...fields, reqId: id }, message) });
    writeAnswer(res, httpStatus, error, answer);
    if (deps.logger.isLevelEnabled('info')) {
      deps.logger.info({ reqId: id, webhookId: id, statusCode: httpStatus, durationMs: Math.round((performance.timeOrigin + performance.now() - startMs) * 100) / 100, ip }, 'webhook answered');
    }
  };

  /** The route's checks after the rate limit, in its order: refuses, or hands the webhook to the route marked. */
  const checkThenRoute = (req: IncomingMessage, res: ServerResponse, ip: string, startMs: number) => {
    try {
      checkIpAllowlist(deps.ipAllowlist, ip);
      deps.loadShedder.admit();
    } catch (thrown) {
      refuse(req, res, ip, startMs, thrown);
      return;
    }
    (req as IncomingMessage & { [ADMITTED]?: true })[ADMITTED] = true;
    route(req, res);
  };

  /**
   * Nothing here may throw out of Node's request event (that would end the process): a fault is answered 500 as
   * every internal error is (sendError's body and log: an `errorId` the sender can quote, logged with the cause).
   */
  const fail = (res: ServerResponse, thrown: unknown) => {
    const error = new WebhookError('WH_ERR_INTERNAL', 'Internal error. Quote the error id when reporting it.', { cause: toError(thrown) });
    const id = newId();
    const answer = errorBodyOf(error, id);
    logFault(error, answer, { error: (fields, message) => deps.logger.error({ ...fields, reqId: id, during: 'refusing a webhook before routing' }, message) });
    if (!res.headersSent) writeAnswer(res, 500, error, answer);
  };

  const judge = (req: IncomingMessage, res: ServerResponse) => {
    const startMs = performance.timeOrigin + performance.now();
    const ip = clientAddress(req);
    // No address (the connection already closed): the route answers it as it always has.
    if (ip === undefined) {
      route(req, res);
      return;
    }
    if (!deps.rateLimited) {
      checkThenRoute(req, res, ip, startMs);
      return;
    }
    deps.rateLimit(ip).then(
      () => {
        // The connection closed while the limit was checked: the router would never hear of it (its close
        // listener comes too late) and would wait for a body that never comes. It is the route's abort instead.
        if (req.socket.destroyed) refuse(req, res, ip, startMs, clientErrorOf(req.socket) ?? clientAborted());
        else checkThenRoute(req, res, ip, startMs);
      },
      (thrown: unknown) => refuse(req, res, ip, startMs, thrown),
    ).catch((thrown: unknown) => fail(res, thrown));
  };

  return (req, res) => {
    if (req.method !== 'POST' || !isWebhookUrl(req.url) || deps.lifecycle.state !== 'ready') {
      route(req, res);
      return;
    }
    try {
      judge(req, res);
    } catch (thrown) {
      fail(res, thrown);
    }
  };
}

/** The webhook's path, with or without a query (a token may come as `?token=`); anything else Fastify routes. */
function isWebhookUrl(url: string | undefined): boolean {
  if (url === undefined || !url.startsWith(WEBHOOK_PATH)) return false;
  return url.length === WEBHOOK_PATH.length || url.charCodeAt(WEBHOOK_PATH.length) === 63; /* ? */
}
