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
}

main().catch((err: unknown) => {
  process.stderr.write(`Start-up failed: ${toError(err).message}\n`);
  const cause = toError(err).cause;
  if (cause) process.stderr.write(`  cause: ${toError(cause).message}\n`);
  process.exit(1);
});
