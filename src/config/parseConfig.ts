import { getHeapStatistics } from 'node:v8';
import { z } from 'zod';
import { parseTraceSampler } from './parseTraceSampler.js';
import { MIN_SECRET_CHARS, type Setting, SETTINGS, type SettingValues } from './settings.js';

export { MIN_SECRET_CHARS } from './settings.js';

/**
 * All configuration, parsed once at start-up from the environment into one typed object, grouped by area
 * (config.http.port, config.database.poolMax, ...). The settings, their variables and schemas are in
 * settings.ts. An invalid value stops start-up with a message naming the variable.
 */
export type Config = SettingValues & {
  monitoring: {
    /** OTLP/HTTP traces URL, from OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces. */
    otlpTracesUrl: string | undefined;
    /** Headers for trace exports: OTEL_EXPORTER_OTLP_HEADERS, overridden per header by OTEL_EXPORTER_OTLP_TRACES_HEADERS. */
    otlpHeaders: Record<string, string>;
    /** Share of traces exported over OTLP (OTEL_TRACES_SAMPLER[_ARG]); records and metrics always cover every webhook. */
    traceExportRatio: number;
  };
};

const ENTRIES = Object.entries(SETTINGS).flatMap(([area, settings]) =>
  Object.entries(settings as Record<string, Setting>).map(([key, s]) => ({ area, key, ...s })),
);
const envSchema = z.object(Object.fromEntries(ENTRIES.map((e) => [e.env, e.schema])));
const SECRET_VARIABLES = new Set(ENTRIES.filter((e) => e.secret).map((e) => e.env));

/** The variables parseConfig reads (for checks that an env file names only real settings). */
export const CONFIG_VARIABLES: readonly string[] = ENTRIES.map((e) => e.env);

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Parses the environment. Throws ConfigError naming every wrong variable and what it allows. `heapLimitBytes` is
 * the process's V8 heap (the start command's --max-old-space-size), which the record buffer must fit in.
 */
export function parseConfig(env: NodeJS.ProcessEnv = process.env, options: { heapLimitBytes?: number } = {}): Config {
  // Empty strings mean "not set" for optional variables, so that `FOO=` in a .env file is harmless.
  const raw: Record<string, string> = {};
  for (const name of CONFIG_VARIABLES) {
    const value = env[name];
    if (value !== undefined && value !== '') raw[name] = value;
  }
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '?');
      // A refused secret is still a secret: start-up output goes to logs.
      const shown = SECRET_VARIABLES.has(name) ? `(${(raw[name] ?? '').length} characters, not shown)` : JSON.stringify(raw[name] ?? '');
      return `${name}=${shown}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const values: Record<string, Record<string, unknown>> = {};
  for (const e of ENTRIES) (values[e.area] ??= {})[e.key] = parsed.data[e.env];
  const config = values as SettingValues;

  let traceExportRatio: number;
  try {
    traceExportRatio = parseTraceSampler(config.monitoring.tracesSampler, config.monitoring.tracesSamplerArg);
  } catch (err) {
    throw new ConfigError(`Invalid configuration:\n  ${(err as Error).message}`);
  }
  if (config.execution.executor === 'forward' && !config.execution.forwardUrl) {
    throw new ConfigError('Invalid configuration:\n  FORWARD_URL: required when EXECUTOR=forward');
  }
  // A forward still in flight when the shutdown's time runs out is cut off with its job locked: graphile-worker
  // takes such a job up again only after 4 hours, and every later signal of its symbol waits behind it.
  if (config.execution.executor === 'forward' && config.execution.forwardTimeoutMs >= config.service.shutdownTimeoutMs) {
    throw new ConfigError(
      `Invalid configuration:\n  FORWARD_TIMEOUT_MS=${config.execution.forwardTimeoutMs}: must be shorter than SHUTDOWN_TIMEOUT_MS (${config.service.shutdownTimeoutMs}), ` +
        'so that a forward in flight finishes before a shutdown stops the worker (a job cut off stays locked for 4 hours, and its symbol with it)',
    );
  }
  // The signal writer holds up to SIGNAL_BATCHES_IN_FLIGHT connections of the request pool; a webhook's duplicate
  // lookup, a write's outcome check and /readyz take theirs from it too, and with none left beside the writer's
  // they waited for a batch to commit (503 past DB_TIMEOUT_MS).
  if (config.database.poolMax <= config.database.signalBatchesInFlight) {
    throw new ConfigError(
      `Invalid configuration:\n  DB_POOL_MAX=${config.database.poolMax}: must be larger than SIGNAL_BATCHES_IN_FLIGHT (${config.database.signalBatchesInFlight}), ` +
        'so that a connection is left beside the signal writer\'s for duplicate lookups, outcome checks and /readyz',
    );
  }
  if (config.http.opsPort !== 0 && config.http.opsPort === config.http.port) {
    throw new ConfigError(`Invalid configuration:\n  OPS_PORT=${config.http.opsPort}: must differ from PORT (the operations listener is a second server)`);
  }
  // Buffered records live on the V8 heap: a bound past half of it would end in an out-of-memory crash, not in
  // records dropped and counted.
  const heapLimitBytes = options.heapLimitBytes ?? getHeapStatistics().heap_size_limit;
  if (config.monitoring.sinkMaxBufferBytes > heapLimitBytes / 2) {
    const mib = (n: number) => Math.floor(n / 2 ** 20);
    throw new ConfigError(
      `Invalid configuration:\n  MONITORING_BUFFER_MAX_BYTES=${config.monitoring.sinkMaxBufferBytes}: more than half of this process's V8 heap ` +
        `(${mib(heapLimitBytes)} MiB, set by --max-old-space-size in the start command); lower it to at most ${mib(heapLimitBytes / 2)} MiB, or raise --max-old-space-size`,
    );
  }
  const secrets = config.secrets.webhookSecrets;
  const short = secrets?.findIndex((s) => s.length < MIN_SECRET_CHARS) ?? -1;
  if (short >= 0) {
    throw new ConfigError(
      `Invalid configuration:\n  WEBHOOK_SECRETS: secret number ${short + 1} is shorter than ${MIN_SECRET_CHARS} characters; every secret must be at least ${MIN_SECRET_CHARS} characters, ` +
        'because the secret is all that stands between the internet and your orders and short ones are guessed. ' +
        'Use a random one (openssl rand -base64 32), or unset WEBHOOK_SECRETS to have one generated.',
    );
  }
  const { otlpEndpoint, otlpTracesEndpoint } = config.monitoring;
  return {
    ...config,
    monitoring: {
      ...config.monitoring,
      otlpTracesUrl: otlpTracesEndpoint ?? (otlpEndpoint ? `${otlpEndpoint.replace(/\/+$/, '')}/v1/traces` : undefined),
      otlpHeaders: { ...config.monitoring.otlpHeadersAll, ...config.monitoring.otlpTracesHeaders },
      traceExportRatio,
    },
  };
}
