import type { FastifyInstance } from 'fastify';
import { readdirSync } from 'node:fs';
import type { Logger } from 'pino';
import { loadGeneratedSecrets, secretsFilePath, type ResolvedSecrets } from './config/loadGeneratedSecrets.js';
import type { Config } from './config/parseConfig.js';
import { closePool, makePool, type Pool } from './db/makePool.js';
import { migrate, MIGRATIONS_DIR } from './db/migrate.js';
import { provisionAppDatabase } from './db/embedded/provisionAppDatabase.js';
import { startEmbeddedPostgres, type EmbeddedServer } from './db/startEmbeddedPostgres.js';
import { checkPortFree } from './http/checkPortFree.js';
import { fitAcceptSockets, readOpenFileLimit } from './http/fitAcceptSockets.js';
import { toError } from './domain/errors.js';
import { listenAt } from './http/listenAt.js';
import { makeAcceptSockets } from './http/makeAcceptSockets.js';
import { connectionsCheckingIntervalMs } from './http/serverOptions.js';
import { makeAuthFailureLimiter } from './http/makeAuthFailureLimiter.js';
import { makeOpsServer } from './http/makeOpsServer.js';
import { makeServer } from './http/makeServer.js';
import { makeLifecycle, type Lifecycle } from './domain/lifecycle.js';
import { makeExecutor } from './execution/makeExecutor.js';
import { liveAttemptSeconds } from './execution/stuckSignalCondition.js';
import { startWorker, type RunningWorker } from './execution/startWorker.js';
import { makeTelemetry, type Telemetry } from './telemetry/makeTelemetry.js';
import { makeEventLoopMonitor } from './monitoring/makeEventLoopMonitor.js';
import { startRetention } from './monitoring/startRetention.js';
import { startSignalWatch } from './monitoring/startSignalWatch.js';
import { makeAuthenticator } from './pipeline/authenticate.js';
import { makeRateLimiter } from './pipeline/makeRateLimiter.js';
import { makeSecretScrubber } from './pipeline/makeSecretScrubber.js';
import { makeLoadShedder } from './pipeline/makeLoadShedder.js';
import { DEFAULT_SIGNAL_WRITER_OPTIONS, makeSignalWriter } from './pipeline/makeSignalWriter.js';
import type { PipelineDeps } from './pipeline/processWebhook.js';
import { isEmbeddedServerUrl } from './db/isEmbeddedServerUrl.js';

export interface Service {
  /** The public listener (HOST:PORT): the webhook, and the admin API unless ADMIN_API_ON_OPS. */
  url: string;
  app: FastifyInstance;
  /** The operations listener (OPS_HOST:OPS_PORT): /metrics, /healthz, /readyz, and the admin API when ADMIN_API_ON_OPS. */
  opsUrl: string;
  ops: FastifyInstance;
  pool: Pool;
  secrets: ResolvedSecrets;
  databaseUrl: string;
  /** The embedded server, when DATABASE_URL is not set. */
  embedded: EmbeddedServer | undefined;
  lifecycle: Lifecycle;
  telemetry: Telemetry;
  /** The in-process worker, when WORKER_ENABLED. */
  worker: RunningWorker | undefined;
  /** Graceful stop, bounded by SHUTDOWN_TIMEOUT_MS: stop accepting, finish in-flight work, close, stop Postgres. */
  stop(): Promise<void>;
}

/**
 * Connection string: DATABASE_URL, or the embedded server started here (stopped again by `stop`), reached as the
 * service's own unprivileged role with the generated passwords.
 */
async function resolveDatabase(config: Config, secrets: ResolvedSecrets, logger: Logger): Promise<{ url: string; embedded?: EmbeddedServer }> {
  if (config.database.url) return { url: config.database.url };
  const passwords = secrets.embeddedDatabase!;
  const embedded = await startEmbeddedPostgres({ dataDir: config.service.dataDir, port: config.database.embeddedPort, superuserPassword: passwords.superuserPassword, logger });
  try {
    const url = await provisionAppDatabase({ port: embedded.port, ...passwords, logger });
    return { url, embedded };
  } catch (err) {
    await embedded.stop();
    throw err;
  }
}

/** The webhook pipeline's parts: signal writer, authenticator, secret scrubber, policy and bounds. */
function makePipeline(config: Config, secrets: ResolvedSecrets, pool: Pool): PipelineDeps {
  const signalWriter = makeSignalWriter(pool, {
    ...DEFAULT_SIGNAL_WRITER_OPTIONS,
    maxConcurrentBatches: config.database.signalBatchesInFlight,
    maxQueueDelayMs: config.database.signalMaxQueueDelayMs,
  });
  return {
    pool,
    signalWriter,
    // While the writer refuses signals past its queue's bound, new webhooks are refused before their body.
    loadShedder: makeLoadShedder(config.http.overloadMaxDelayMs, { maxAnswerMs: config.http.overloadMaxAnswerMs, writerRefusedAtMs: () => signalWriter.lastRefusedAtMs() }),
    authenticate: makeAuthenticator({
      secrets: secrets.webhookSecrets,
      signingSecret: config.secrets.webhookSigningSecret,
      secretLocation: config.secrets.webhookSecrets ? 'WEBHOOK_SECRETS' : secretsFilePath(config.service.dataDir),
    }),
    scrubSecrets: makeSecretScrubber([...secrets.webhookSecrets, config.secrets.webhookSigningSecret, secrets.adminToken]),
    policy: {
      allowedSymbols: config.pipeline.allowedSymbols,
      maxQuantity: config.pipeline.maxQuantity,
      maxNotional: config.pipeline.maxNotional,
      maxAlertAgeSeconds: config.pipeline.maxAlertAgeSeconds,
    },
    inputLimits: { maxQuantity: config.pipeline.inputMaxQuantity, maxPrice: config.pipeline.inputMaxPrice },
    dedupeWindowSeconds: config.pipeline.dedupeWindowSeconds,
    executionMaxAttempts: config.execution.maxAttempts,
  };
}

export async function startService(config: Config, logger: Logger): Promise<Service> {
  const lifecycle = makeLifecycle();
  // A busy PORT is reported before anything slow (the database, migrations) starts.
  await checkPortFree(config.http.host, config.http.port);
  const secrets = await loadGeneratedSecrets(config.service.dataDir, {
    webhookSecrets: config.secrets.webhookSecrets,
    adminToken: config.secrets.adminToken,
    embeddedDatabase: !config.database.url,
  });
  const database = await resolveDatabase(config, secrets, logger);
  // Stopped in this order: HTTP (no new webhooks, in-flight ones finish) and, at the same time, the worker
  // (no new jobs, running ones finish), then telemetry (the last records and spans are flushed), pool, embedded
  // Postgres. The worker no longer waits for HTTP: a client holding a request open (REQUEST_TIMEOUT_MS, as long
  // as SHUTDOWN_TIMEOUT_MS by default) left it 100 ms, and a forward in flight was abandoned with Postgres
  // stopped under it: its order in no database, its job locked for 4 hours, then sent again.
  type Step = () => Promise<void>;
  const steps: { app?: Step; worker?: Step; telemetry?: Step; pool?: Step; database?: Step } = {};
  const together = (...parts: Array<Step | undefined>): Step | undefined => {
    const present = parts.filter((f): f is Step => f !== undefined);
    if (present.length <= 1) return present[0];
    return async () => {
      const failed = (await Promise.allSettled(present.map((f) => f()))).filter((r) => r.status === 'rejected');
      if (failed.length > 0) throw (failed[0] as PromiseRejectedResult).reason;
    };
  };
  const cleanups = () => [together(steps.app, steps.worker), steps.telemetry, steps.pool, steps.database].filter((f): f is Step => f !== undefined);
  if (database.embedded) steps.database = () => database.embedded!.stop();
  try {
    // The embedded server asks only for SCRAM: a connection asked for anything else is refused (ScramOnlyClient).
    const scramOnly = database.embedded !== undefined || isEmbeddedServerUrl(database.url, config.database.embeddedPort);
    await migrate(database.url, logger, { scramOnly });
    // One connection stays open through quiet spells: the signal writer uses one at a time, and TradingView's
    // alerts often come after minutes of quiet (a bar's close), when opening one would add about 10 ms to the answer (node dist/bench/coldConnection.js).
    const pool = makePool({ connectionString: database.url, max: config.database.poolMax, timeoutMs: config.database.timeoutMs, logger, minOpen: 1, scramOnly });
    // Reads and writes of the admin API, the signal watch and retention: a dashboard's slow reads (a 30-day window)
    // held the request pool's connections for up to DB_TIMEOUT_MS, and webhooks waited for one (503 past it).
    const adminPool = makePool({
      connectionString: database.url, max: config.database.adminPoolMax, timeoutMs: config.database.timeoutMs, logger, applicationName: 'tv-webhook-admin', scramOnly,
    });
    steps.pool = async () => void (await Promise.all([closePool(pool), closePool(adminPool)]));
    const telemetry = makeTelemetry(config, database.url, logger, { scramOnly });
    const eventLoop = makeEventLoopMonitor();
    const retention = config.monitoring.enabled
      ? startRetention({
          pool: adminPool, days: config.monitoring.retentionDays, intervalMs: config.monitoring.retentionIntervalMs, logger,
          onError: () => telemetry.metrics?.retentionErrors.inc(),
        })
      : undefined;
    const signalWatch = config.monitoring.enabled
      ? startSignalWatch({
          pool: adminPool,
          intervalMs: config.monitoring.signalWatchIntervalMs,
          lookbackMs: config.monitoring.strategyLookbackDays * 86_400_000,
          rhythmRefreshMs: config.monitoring.strategyRhythmRefreshMs,
          logger,
          onError: () => telemetry.metrics?.watchErrors.inc(),
          stuck: {
            afterSeconds: config.monitoring.healthQueueMaxAgeSeconds,
            liveAttemptSeconds: liveAttemptSeconds(config.execution),
            onCount: ({ stuck }) => telemetry.metrics?.signalsStuck.set(stuck),
          },
        })
      : undefined;
    steps.telemetry = async () => {
      retention?.stop();
      await signalWatch?.stop();
      eventLoop.stop();
      await telemetry.stop(Math.max(500, Math.floor(config.service.shutdownTimeoutMs / 3)));
    };
    let worker: RunningWorker | undefined;
    const expectedMigrations = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).length;
    const ops = await makeOpsServer({ config, logger, lifecycle });
    const pipeline = makePipeline(config, secrets, pool);
    const app = await makeServer({
      ops,
      config,
      pipeline,
      rateLimit: makeRateLimiter(config.http.rateLimitPerMinute, config.http.rateLimitProcessCount),
      adminToken: secrets.adminToken,
      authFailureLimiter: makeAuthFailureLimiter(config.http.adminAuthMaxFailures, config.http.adminAuthWindowSeconds),
      pool,
      logger,
      lifecycle,
      expectedMigrations,
      telemetry,
      adminPool,
      health: {
        pool: adminPool,
        thresholds: {
          dbLatencyWarnMs: config.monitoring.healthDbLatencyWarnMs,
          queueMaxDepth: config.monitoring.healthQueueMaxDepth,
          queueMaxAgeSeconds: config.monitoring.healthQueueMaxAgeSeconds,
          executionFailureWindowSeconds: config.monitoring.healthExecutionFailureWindowSeconds,
          liveAttemptSeconds: liveAttemptSeconds(config.execution),
        },
        worker: { enabled: config.worker.enabled, alive: () => worker?.alive() ?? false, restarts: () => worker?.restarts() ?? 0 },
        sink: () => telemetry.sink?.getStats(),
        exporter: () => telemetry.exportHealth,
        eventLoop,
      },
    });
    // Both listeners stop together in the first step: no new requests on either, in-flight ones finish.
    steps.app = async () => {
      await Promise.all([app.close(), ops.close()]);
      pipeline.loadShedder.stop();
    };
    // Each accept socket is a descriptor: at most a quarter of the open-file limit (fitAcceptSockets).
    const openFileLimit = readOpenFileLimit();
    const socketCount = fitAcceptSockets(config.http.acceptSockets, openFileLimit);
    if (socketCount < config.http.acceptSockets) {
      logger.warn(
        { requested: config.http.acceptSockets, used: socketCount, openFileLimit },
        `HTTP_ACCEPT_SOCKETS lowered to ${socketCount}, a quarter of the open-file limit (${openFileLimit}); raise the limit (LimitNOFILE, ulimit -n) to use more`,
      );
    }
    // Connections waiting to be accepted: Node's default of 511 overflowed in bursts of new connections (the kernel
    // dropped their SYNs, and each waited 1 s or more for a retry); the kernel caps it at net.core.somaxconn.
    // Linux only: elsewhere Node refuses reusePort (ENOTSUP), and the port keeps its one plain socket.
    const acceptSockets =
      socketCount > 1 && process.platform === 'linux' ? makeAcceptSockets(app, socketCount, connectionsCheckingIntervalMs(config)) : undefined;
    const url = await listenAt(app, { host: config.http.host, port: config.http.port, settings: 'HOST/PORT', backlog: 4096, acceptSockets });
    const opsUrl = await listenAt(ops, { host: config.http.opsHost, port: config.http.opsPort, settings: 'OPS_HOST/OPS_PORT' });
    if (config.worker.enabled) {
      worker = await startWorker({
        connectionString: database.url,
        scramOnly,
        concurrency: config.worker.concurrency,
        executor: makeExecutor(config),
        logger,
        pollIntervalMs: config.worker.pollIntervalMs,
        tracer: telemetry.tracer,
        maxAlertAgeSeconds: config.pipeline.maxAlertAgeSeconds,
        recordRetryMs: config.execution.recordRetryMs,
        onUnexpectedStop: () => telemetry.metrics?.workerRestarts.inc(),
      });
      steps.worker = () => worker!.stop();
    }
    lifecycle.set('ready');

    let stopping: Promise<void> | undefined;
    const stop = () => {
      stopping ??= (async () => {
        lifecycle.set('draining');
        await runBounded(cleanups(), config.service.shutdownTimeoutMs, logger);
        lifecycle.set('stopped');
      })();
      return stopping;
    };
    return { url, app, opsUrl, ops, pool, secrets, databaseUrl: database.url, embedded: database.embedded, lifecycle, telemetry, worker, stop };
  } catch (err) {
    await runBounded(cleanups(), config.service.shutdownTimeoutMs, logger);
    throw err;
  }
}

/**
 * Runs the cleanups in order within one overall deadline. A cleanup past the deadline is abandoned (logged),
 * and the rest still run, so that Postgres is stopped even if a request never finishes.
 */
async function runBounded(cleanups: Array<() => Promise<void>>, timeoutMs: number, logger: Logger): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const cleanup of cleanups) {
    const remaining = Math.max(100, deadline - Date.now());
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        cleanup(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`shutdown step timed out after ${remaining} ms`)), remaining);
        }),
      ]);
    } catch (err) {
      logger.warn({ err: toError(err) }, 'shutdown step did not finish cleanly');
    } finally {
      clearTimeout(timer);
    }
  }
}
