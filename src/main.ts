import { toError } from './domain/errors.js';
import { makeLogger } from './makeLogger.js';
import { printBanner } from './printBanner.js';
import { parseConfigOrExit, stopOnSignals } from './processEntry.js';
import { startService } from './startService.js';

async function main(): Promise<void> {
  const config = parseConfigOrExit();
  const logger = makeLogger(config.service.logLevel);
  const service = await startService(config, logger);
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
