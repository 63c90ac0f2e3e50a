import { toError } from './domain/errors.js';
import { makeLogger } from './makeLogger.js';
import { printBanner } from './printBanner.js';
import { parseConfigOrExit, stopOnSignals, stopThenExit } from './processEntry.js';
import { startService } from './startService.js';

async function main(): Promise<void> {
  const config = parseConfigOrExit();
  const logger = makeLogger(config.service.logLevel);
  // A signal during start-up (the first cluster, migrations: they can take minutes) used to end the process at once
  // with Node's default action: the embedded Postgres, in a process group of its own, was left running, and every
  // later start refused its data folder. The first signal now stops the service as soon as it has started; a second
  // exits at once, and the exit hook stops the embedded Postgres.
  let startSignal: NodeJS.Signals | undefined;
  const onStartSignal = (signal: NodeJS.Signals) => {
    if (startSignal) {
      logger.warn({ signal }, 'second signal during start-up: exiting now');
      process.exit(1);
    }
    startSignal = signal;
    logger.info({ signal }, 'signal during start-up: stopping as soon as the service has started');
  };
  process.on('SIGTERM', onStartSignal);
  process.on('SIGINT', onStartSignal);
  const service = await startService(config, logger);
  if (startSignal) {
    // Still listening: a second signal during this stop exits at once (and the exit hook stops Postgres).
    await stopThenExit(logger, () => service.stop());
  }
  process.removeListener('SIGTERM', onStartSignal);
  process.removeListener('SIGINT', onStartSignal);
  printBanner(config, service.secrets, service.url);
  logger.info({ url: service.url, opsUrl: service.opsUrl }, 'service ready');

  stopOnSignals(logger, () => service.stop(), { timeoutMs: config.service.shutdownTimeoutMs });
  // Without its database the service would answer 503 for ever, and a supervisor (systemd's Restart=on-failure)
  // would never restart it: it stops what it can and exits 1.
  void service.embedded?.exitedUnexpectedly.then(async ({ code, signal }) => {
    logger.fatal({ code, signal }, 'the embedded PostgreSQL exited; stopping (exit code 1) so that a supervisor restarts the service');
    await service.stop().catch(() => undefined);
    process.exit(1);
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`Start-up failed: ${toError(err).message}\n`);
  const cause = toError(err).cause;
  if (cause) process.stderr.write(`  cause: ${toError(cause).message}\n`);
  process.exit(1);
});
