import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { IpAllowlist } from '../config/parseIpAllowlist.js';
import { checkIpAllowlist } from '../pipeline/checkIpAllowlist.js';
import type { RateLimiter } from '../pipeline/makeRateLimiter.js';
import { processWebhook, type PipelineDeps } from '../pipeline/processWebhook.js';
import type { Metrics } from '../telemetry/makeMetrics.js';
import type { Lifecycle } from '../domain/lifecycle.js';
import type { WebhookTracing } from '../telemetry/webhookTrace.js';
import { beginWebhookTrace, WEBHOOK_PATH } from './beginWebhookTrace.js';
import { wasAdmittedBeforeRouting } from './refuseBeforeRouting.js';
import { clientAborted, clientErrorOf } from './answerClientError.js';
import { WebhookError } from '../domain/errors.js';
import { statusOf } from './errors.js';
import { finishWebhookTrace } from '../pipeline/finishWebhookTrace.js';

export { WEBHOOK_PATH };
/** A sender refused while the service shuts down is told to come back when a restart has had time to finish. */
const SHUTDOWN_RETRY_AFTER_SECONDS = '5';

export interface WebhookRouteDeps extends PipelineDeps {
  rateLimit: RateLimiter;
  ipAllowlist: IpAllowlist | undefined;
  bodyLimitBytes: number;
  webhookTracing: WebhookTracing;
  metrics: Metrics | undefined;
  lifecycle: Lifecycle;
}

export function registerWebhookRoute(app: FastifyInstance, deps: WebhookRouteDeps): void {
  // The answer is decided: end the trace (which feeds metrics and the monitoring record) before it is sent.
  // Callback hooks rather than async ones: a promise and a microtask less per webhook, refusals included.
  const finishOnSend = (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, payload: unknown) => void) => {
    finishWebhook(request, reply.statusCode, deps);
    done(null, payload);
  };
  app.route<{ Querystring: { token?: string | string[] } }>({
    method: 'POST',
    url: WEBHOOK_PATH,
    bodyLimit: deps.bodyLimitBytes,
    // Rate limit, allowlist and load shedding run before the body is read: refusing must cost as little as possible.
    onRequest: async (request, reply) => startWebhook(request, reply, deps),
    handler: async (request) => {
      const state = request.webhook!;
      state.bodyRead = true;
      state.bodyReadAtMs = performance.now();
      state.answer = await processWebhook(
        deps,
        {
          webhookId: request.id,
          receivedAt: request.receivedAt,
          contentType: request.headers['content-type'],
          raw: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
          headers: request.headers,
          queryToken: request.query.token,
        },
        state,
      );
      return state.answer;
    },
    onSend: finishOnSend,
    onRequestAbort: async (request) => abortWebhook(request, deps),
    onResponse: (request, reply, done) => {
      // Checked first: the line's fields (the client's address among them) cost a few µs even when not logged.
      if ((request.log as Logger).isLevelEnabled('info')) {
        request.log.info(
          { webhookId: request.id, statusCode: reply.statusCode, durationMs: Math.round(reply.elapsedTime * 100) / 100, ip: request.ip },
          'webhook answered',
        );
      }
      done();
    },
  });
  // A sender configured with the wrong method (a browser, a GET health probe pointed at the webhook URL) is a
  // webhook that went wrong like any other: it gets a record, a trace and a count, as rejected.
  app.route({
    method: ['GET', 'PUT', 'PATCH', 'DELETE'],
    url: WEBHOOK_PATH,
    onRequest: async (request, reply) => startWebhook(request, reply, deps),
    onSend: finishOnSend,
    onRequestAbort: async (request) => abortWebhook(request, deps),
    handler: async () => {
      throw new WebhookError('WH_ERR_METHOD_NOT_ALLOWED', 'Use POST: TradingView sends alerts as POST requests.', {
        headers: { Allow: 'POST' },
      });
    },
  });
}

/**
 * A webhook's start, before its body is read: its trace (which becomes its record and metrics), then the
 * checks that refuse it cheaply (rate limit, allowlist, load shedding).
 */
async function startWebhook(request: FastifyRequest, reply: FastifyReply, deps: WebhookRouteDeps): Promise<void> {
  // Sub-millisecond start time: stage durations here are often well under a millisecond.
  const startMs = performance.timeOrigin + performance.now();
  request.receivedAt = new Date(startMs);
  deps.metrics?.inFlight.inc();
  const trace = beginWebhookTrace(deps.webhookTracing, { id: request.id, method: request.method, headers: request.headers, ip: request.ip, startMs });
  request.webhook = { trace, extras: {}, bodyRead: false, finished: false };
  // A request pipelined behind another on its connection while the service drains: Node sends its answer only
  // after the one before it, which closes the connection (Connection: close while draining), so no answer of
  // this one would ever arrive. It is refused before anything is stored; the sender sees the connection close
  // and sends it again.
  if (deps.lifecycle.state === 'draining' && reply.raw.socket === null) {
    throw new WebhookError('WH_ERR_SHUTTING_DOWN', 'The service is shutting down: send this request again, on a new connection, after Retry-After seconds.', {
      headers: { 'Retry-After': SHUTDOWN_RETRY_AFTER_SECONDS },
    });
  }
  // Already admitted before routing (refuseBeforeRouting ran the same checks, in the same order).
  if (wasAdmittedBeforeRouting(request.raw)) return;
  await deps.rateLimit(request.ip);
  checkIpAllowlist(deps.ipAllowlist, request.ip);
  deps.loadShedder.admit();
}

/**
 * Fastify calls this when a client closes its connection before its request is complete. It usually runs
 * before the error answer's onSend (50 of 50 aborted requests in a test run), and when the connection closes
 * while onRequest is still waiting, the body reader may never hear of it and onSend never runs. Either way the
 * webhook is finished once (finishWebhook ignores a second call), as the client's fault.
 */
function abortWebhook(request: FastifyRequest, deps: WebhookRouteDeps): void {
  if (!request.webhook || request.webhook.bodyRead || request.webhook.finished) return;
  request.webhookError ??= clientErrorOf(request.raw.socket) ?? clientAborted();
  finishWebhook(request, statusOf(request.webhookError), deps);
}

function finishWebhook(request: FastifyRequest, httpStatus: number, deps: Pick<WebhookRouteDeps, 'metrics' | 'loadShedder'>): void {
  const state = request.webhook;
  if (!state || state.finished) return;
  state.finished = true;
  deps.metrics?.inFlight.dec();
  // How long an admitted webhook took, from its body to its answer, tells the load shedder whether a queue is
  // building up; a sender's slow upload is not the service's queue (senders cannot make others refused by it).
  if (state.bodyReadAtMs !== undefined) deps.loadShedder.answered(performance.now() - state.bodyReadAtMs);
  finishWebhookTrace(state.trace, {
    httpStatus,
    answer: state.answer,
    error: request.webhookError,
    headers: request.headers,
    extras: state.extras,
  });
}
