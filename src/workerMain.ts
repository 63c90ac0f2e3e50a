import { migrate } from './db/migrate.js';
import { readStoredSecrets } from './config/loadGeneratedSecrets.js';
import { appUrl } from './db/embedded/provisionAppDatabase.js';
import { makeExecutor } from './execution/makeExecutor.js';
import { startWorker } from './execution/startWorker.js';
import { toError } from './domain/errors.js';
import { makeLogger } from './makeLogger.js';
import { parseConfigOrExit, stopOnSignals } from './processEntry.js';
import { serveWorkerMetrics } from './execution/serveWorkerMetrics.js';
import { makeTelemetry } from './telemetry/makeTelemetry.js';
import { isEmbeddedServerUrl } from './db/isEmbeddedServerUrl.js';

/**
 * `npm run worker`: the background worker alone, so that web and worker scale separately. It uses
 * DATABASE_URL, or else the embedded Postgres that a web process started with the same settings.
 */
async function main(): Promise<void> {
  const config = parseConfigOrExit();
  const logger = makeLogger(config.service.logLevel);
  let url = config.database.url;
  // The embedded server asks only for SCRAM: a connection asked for anything else is refused (ScramOnlyClient).
  const scramOnly = !url || isEmbeddedServerUrl(url, config.database.embeddedPort);
  if (!url) {
    // The web process generated the embedded server's passwords into DATA_DIR/secrets.json on its first start.
    const password = (await readStoredSecrets(config.service.dataDir))?.embeddedDbAppPassword;
    if (!password) {
      throw new Error(`no embedded Postgres password in ${config.service.dataDir}/secrets.json: start the web process first with the same DATA_DIR (npm start; WORKER_ENABLED=false there), or set DATABASE_URL`);
    }
    url = appUrl(config.database.embeddedPort, password);
  }
  try {
    await migrate(url, logger, { scramOnly });
  } catch (err) {
    throw new Error(
      config.database.url
        ? `cannot reach DATABASE_URL: ${toError(err).message}`
        : `cannot reach the embedded Postgres on 127.0.0.1:${config.database.embeddedPort}: start the web process first (npm start, it runs the embedded server; WORKER_ENABLED=false there) or set DATABASE_URL`,
      { cause: err },
    );
  }
  // Execution spans feed the same consumers as in the web process: metrics, records, OTLP export.
  const telemetry = makeTelemetry(config, url, logger, { scramOnly });
  const metricsServer =
    telemetry.metrics && config.worker.metricsPort > 0
      ? await serveWorkerMetrics({ metrics: telemetry.metrics, host: config.http.opsHost, port: config.worker.metricsPort, logger })
      : undefined;
  const worker = await startWorker({
    connectionString: url,
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
  logger.info({ executor: config.execution.executor, concurrency: config.worker.concurrency, metrics: metricsServer?.url }, 'worker ready');
  // Running jobs finish first; past SHUTDOWN_TIMEOUT_MS the process exits anyway (graphile-worker frees
  // their locks after its own timeout).
  stopOnSignals(
    logger,
    () => {
      const timer = setTimeout(() => {
        logger.warn({ timeoutMs: config.service.shutdownTimeoutMs }, 'worker did not stop in time; exiting');
        process.exit(1);
      }, config.service.shutdownTimeoutMs);
      return worker
        .stop()
        .then(() => metricsServer?.close())
        .then(() => telemetry.stop(Math.max(100, config.service.shutdownTimeoutMs / 2)))
        .finally(() => clearTimeout(timer));
    },
    { timeoutMs: config.service.shutdownTimeoutMs },
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`Worker start-up failed: ${toError(err).message}\n`);
  process.exit(1);
});
