import { ConfigError, parseConfig } from './config/parseConfig.js';
import { toError } from './http/errors.js';
import { makeLogger } from './makeLogger.js';
import { printBanner } from './printBanner.js';
import { startService } from './startService.js';

async function main(): Promise<void> {
  let config;
  try {
    config = parseConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\nSee the configuration table in README.md.\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = makeLogger(config.logLevel);
  const service = await startService(config, logger);
  printBanner(config, service.secrets, service.url);
  logger.info({ url: service.url }, 'service ready');

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    logger.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'shutting down');
    service.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err: toError(err) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

main().catch((err: unknown) => {
  process.stderr.write(`Start-up failed: ${toError(err).message}\n`);
  const cause = toError(err).cause;
  if (cause) process.stderr.write(`  cause: ${toError(cause).message}\n`);
  process.exit(1);
});
