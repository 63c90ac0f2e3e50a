import type { Logger } from 'pino';
import { type Config, ConfigError, parseConfig } from './config/parseConfig.js';
import { toError } from './domain/errors.js';

/**
 * What both entry points (`npm start`, `npm run worker`) do around their own work: read the configuration
 * or exit 2 naming the wrong setting, and stop on SIGTERM/SIGINT.
 */
export function parseConfigOrExit(): Config {
  try {
    return parseConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\nSee the configuration table in README.md.\n`);
      process.exit(2);
    }
    throw err;
  }
}

/** Runs `stop` (which bounds itself), then exits 0 when it is done, 1 when it failed. */
export async function stopThenExit(logger: Logger, stop: () => Promise<void>): Promise<never> {
  try {
    await stop();
    logger.info('stopped');
    process.exit(0);
  } catch (err) {
    logger.error({ err: toError(err) }, 'shutdown failed');
    process.exit(1);
  }
}

/**
 * The first SIGTERM/SIGINT runs `stop` (which bounds itself) and exits 0 when it is done, 1 when it failed;
 * a second signal exits 1 at once, without waiting for the drain.
 */
export function stopOnSignals(logger: Logger, stop: () => Promise<void>, details: Record<string, unknown> = {}): void {
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    logger.info({ signal, ...details }, 'shutting down');
    void stopThenExit(logger, stop);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
