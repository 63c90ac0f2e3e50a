import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { registerExecutionRoutes } from '../api/executionRoutes.js';
import { registerMonitoringRoutes } from '../api/monitoringRoutes.js';
import { registerStreamRoute } from '../api/streamRoute.js';
import type { HealthDeps } from '../monitoring/checkHealth.js';
import type { RateLimiter } from '../pipeline/makeRateLimiter.js';
import type { PipelineDeps } from '../pipeline/processWebhook.js';
import { registerSignalsRoutes } from '../api/signalsRoutes.js';
import { liveAttemptSeconds } from '../execution/stuckSignalCondition.js';
import type { Config } from '../config/parseConfig.js';
import type { Pool } from '../db/makePool.js';
import type { Lifecycle } from '../domain/lifecycle.js';
import { WebhookError } from '../domain/errors.js';
import { registerHealthRoutes } from './healthRoutes.js';
import { registerMetricsRoute } from './metricsRoute.js';
import type { Telemetry } from '../telemetry/makeTelemetry.js';
import type { AuthFailureLimiter } from './makeAuthFailureLimiter.js';
import { declareRequestState } from './requestState.js';
import { refuseBeforeRouting } from './refuseBeforeRouting.js';
import { registerSecurityHeaders } from './registerSecurityHeaders.js';
import { serverOptions } from './serverOptions.js';
import { makeRequireAdmin } from './requireAdmin.js';
import { answerFor, sendError } from './sendError.js';
import { registerWebhookRoute } from './webhookRoute.js';

export interface ServerDeps {
  config: Config;
  /** The webhook pipeline's parts, built where the service is assembled (startService). */
  pipeline: PipelineDeps;
  rateLimit: RateLimiter;
  adminToken: string;
  authFailureLimiter: AuthFailureLimiter;
  /** The request pool: the webhook path and /readyz. */
  pool: Pool;
  /** The admin API's own pool (DB_ADMIN_POOL_MAX), and /metrics' reads at scrape time. */
  adminPool: Pool;
  logger: Logger;
  lifecycle: Lifecycle;
  expectedMigrations: number;
  telemetry: Telemetry;
  health: HealthDeps;
  /** The operations listener (makeOpsServer): /metrics and health always, the admin API when ADMIN_API_ON_OPS. */
  ops: FastifyInstance;
}

/** The public listener and its routes (and the operations listener's): wires the parts it is given to routes. */
export async function makeServer(deps: ServerDeps): Promise<FastifyInstance> {
  const { config, pipeline } = deps;
  const app = Fastify({
    ...serverOptions(config, deps.logger),
    // A trust function (addresses or a hop count), never `true`: see parseTrustProxy.
    trustProxy: config.http.trustProxy?.trusts ?? false,
  });
  app.server.headersTimeout = config.http.headersTimeoutMs;
  declareRequestState(app);
  // Webhooks refused on their headers alone are answered before Fastify routes them (see refuseBeforeRouting).
  // The extra accept sockets (makeAcceptSockets) take this listener too: they copy the server's when they open.
  const [route] = app.server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  if (route) {
    app.server.removeListener('request', route);
    app.server.on(
      'request',
      refuseBeforeRouting(
        {
          rateLimit: deps.rateLimit,
          rateLimited: config.http.rateLimitPerMinute > 0,
          ipAllowlist: config.http.ipAllowlist,
          loadShedder: pipeline.loadShedder,
          lifecycle: deps.lifecycle,
          webhookTracing: deps.telemetry.webhookTracing,
          logger: deps.logger,
          trustProxy: config.http.trustProxy?.trusts,
        },
        route,
      ),
    );
  }

  registerSecurityHeaders(app);

  // The raw bytes are kept: a Standard Webhooks signature covers them, and the media type is ours to check.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  // While draining, answer with Connection: close, so that keep-alive clients do not hold the shutdown open.
  // Callback hooks on every answer, not async ones: each async hook is a promise and a microtask per request.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (deps.lifecycle.state === 'draining') void reply.header('connection', 'close');
    done(null, payload);
  });

  app.setErrorHandler((error, request, reply) => sendError(request, reply, error));
  app.setNotFoundHandler((request, reply) =>
    sendError(request, reply, new WebhookError('WH_ERR_NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}.`)),
  );

  const requireAdmin = makeRequireAdmin(deps.adminToken, { limiter: deps.authFailureLimiter, metrics: deps.telemetry.metrics });
  registerWebhookRoute(app, {
    ...pipeline,
    rateLimit: deps.rateLimit,
    ipAllowlist: config.http.ipAllowlist,
    bodyLimitBytes: config.http.bodyLimitBytes,
    webhookTracing: deps.telemetry.webhookTracing,
    metrics: deps.telemetry.metrics,
    lifecycle: deps.lifecycle,
  });
  if (deps.telemetry.metrics) {
    registerMetricsRoute(deps.ops, {
      metrics: deps.telemetry.metrics,
      pool: deps.adminPool,
      watch: { maxStrategies: config.monitoring.strategyLabelsMax, lookbackMs: config.monitoring.strategyLookbackDays * 86_400_000 },
    });
  }
  // Everything but the webhook: on the public listener by default, only on the operations one when asked.
  const admin = config.http.adminApiOnOps ? deps.ops : app;
  registerSignalsRoutes(admin, {
    pool: deps.adminPool,
    requireAdmin,
    retry: { pool: deps.adminPool, policy: pipeline.policy, tracer: deps.telemetry.tracer, maxAttempts: pipeline.executionMaxAttempts },
    settle: {
      pool: deps.adminPool,
      tracer: deps.telemetry.tracer,
      executor: config.execution.executor,
      stuckAfterSeconds: config.monitoring.healthQueueMaxAgeSeconds,
      liveAttemptSeconds: liveAttemptSeconds(config.execution),
    },
  });
  registerExecutionRoutes(admin, { pool: deps.adminPool, requireAdmin });
  registerMonitoringRoutes(admin, {
    pool: deps.adminPool,
    requireAdmin,
    telemetry: deps.telemetry,
    health: deps.health,
    replay: { pipeline, webhookTracing: deps.telemetry.webhookTracing, metrics: deps.telemetry.metrics, answerFor },
    traceUiUrl: config.monitoring.traceUiUrl,
  });
  registerStreamRoute(admin, {
    requireAdmin,
    stream: deps.telemetry.stream,
    metrics: deps.telemetry.metrics,
    maxConnections: config.monitoring.streamMaxConnections,
    queueMaxEvents: config.monitoring.streamQueueMaxEvents,
  });
  for (const server of [app, deps.ops]) {
    registerHealthRoutes(server, { pool: deps.pool, lifecycle: deps.lifecycle, expectedMigrations: deps.expectedMigrations });
  }
  return app;
}
