import { z } from 'zod';
import { parseIpAllowlist, type IpAllowlist } from './parseIpAllowlist.js';
import { parseTrustProxy, type TrustProxy } from './parseTrustProxy.js';
import { parseTraceSampler } from './parseTraceSampler.js';

/**
 * All configuration, parsed once at start-up from the environment into one typed object.
 * Units are in the names. An invalid value stops start-up with a message naming the variable.
 */

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const EXECUTORS = ['paper', 'forward'] as const;

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const list = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x.length > 0));
const optionalString = z
  .string()
  .transform((s) => (s.trim() === '' ? undefined : s.trim()))
  .optional();
/** Operator-set shared secrets and tokens: a shorter one is refused at start-up. Generated ones have 43. */
export const MIN_SECRET_CHARS = 16;
/** Variables whose value is never repeated in a configuration error. */
const SECRET_VARIABLES = new Set(['WEBHOOK_SECRETS', 'WEBHOOK_SIGNING_SECRET', 'ADMIN_TOKEN', 'FORWARD_SIGNING_SECRET', 'DATABASE_URL']);
const positiveNumberOrOff = z.coerce.number().min(0).refine(Number.isFinite, 'must be a finite number');

const envSchema = z.object({
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  OPS_HOST: z.string().min(1).default('127.0.0.1'),
  OPS_PORT: int(0, 65535).default(9300),
  ADMIN_API_ON_OPS: bool.default(false),
  PUBLIC_URL: optionalString,
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  DATA_DIR: z.string().min(1).default('./.data'),
  DATABASE_URL: optionalString,
  EMBEDDED_PG_PORT: int(1, 65535).default(54329),
  DB_POOL_MAX: int(1, 200).default(10),
  DB_TIMEOUT_MS: int(50, 60_000).default(2_000),
  WEBHOOK_SECRETS: list.optional(),
  WEBHOOK_SIGNING_SECRET: optionalString.refine((s) => s === undefined || s.startsWith('whsec_'), 'must start with whsec_'),
  ADMIN_TOKEN: optionalString.refine((s) => s === undefined || s.length >= MIN_SECRET_CHARS, `must be at least ${MIN_SECRET_CHARS} characters`),
  RATE_LIMIT_PER_MINUTE: int(0, 1_000_000).default(600),
  RATE_LIMIT_PROCESS_COUNT: int(1, 1_000).default(1),
  ADMIN_AUTH_MAX_FAILURES: int(1, 1_000_000).default(10),
  ADMIN_AUTH_WINDOW_SECONDS: int(1, 86_400).default(300),
  IP_ALLOWLIST: z.string().default(''),
  TRUST_PROXY: z.string().default('false'),
  BODY_LIMIT_BYTES: int(256, 10 * 1024 * 1024).default(64 * 1024),
  ALLOWED_SYMBOLS: list.default([]),
  MAX_QUANTITY: positiveNumberOrOff.default(0),
  MAX_NOTIONAL: positiveNumberOrOff.default(0),
  // Sanity bounds on input (422 above them), unlike the policy's MAX_QUANTITY (a decline). At most 1e15 each, so
  // that quantity x price and the paper book's sums stay far inside a double's exact range and finite.
  INPUT_MAX_QUANTITY: z.coerce.number().positive().max(1e15).default(1e12),
  INPUT_MAX_PRICE: z.coerce.number().positive().max(1e15).default(1e12),
  MAX_ALERT_AGE_SECONDS: int(0, 7 * 24 * 3600).default(0),
  DEDUPE_WINDOW_SECONDS: int(1, 7 * 24 * 3600).default(60),
  REQUEST_TIMEOUT_MS: int(1_000, 300_000).default(10_000),
  HEADERS_TIMEOUT_MS: int(1_000, 300_000).default(5_000),
  KEEP_ALIVE_TIMEOUT_MS: int(1_000, 300_000).default(65_000),
  SHUTDOWN_TIMEOUT_MS: int(100, 600_000).default(10_000),
  WORKER_ENABLED: bool.default(true),
  WORKER_CONCURRENCY: int(1, 100).default(4),
  WORKER_POLL_INTERVAL_MS: int(50, 60_000).default(2_000),
  WORKER_METRICS_PORT: int(0, 65535).default(9464),
  EXECUTION_MAX_ATTEMPTS: int(1, 25).default(5),
  EXECUTOR: z.enum(EXECUTORS).default('paper'),
  FORWARD_URL: optionalString.refine((s) => s === undefined || /^https?:\/\//.test(s), 'must be an http(s) URL'),
  FORWARD_TIMEOUT_MS: int(100, 60_000).default(5_000),
  MONITORING_ENABLED: bool.default(true),
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalString.refine((s) => s === undefined || /^https?:\/\//.test(s), 'must be an http(s) URL'),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalString.refine((s) => s === undefined || /^https?:\/\//.test(s), 'must be an http(s) URL'),
  OTEL_BSP_MAX_QUEUE_SIZE: int(1, 1_000_000).default(8192),
  OTEL_TRACES_SAMPLER: optionalString,
  OTEL_TRACES_SAMPLER_ARG: optionalString,
  MONITORING_BATCH_SIZE: int(1, 10_000).default(500),
  MONITORING_FLUSH_INTERVAL_MS: int(10, 60_000).default(200),
  MONITORING_BUFFER_MAX_RECORDS: int(100, 10_000_000).default(100_000),
  MONITORING_BUFFER_MAX_BYTES: int(64 * 1024, 16 * 1024 * 1024 * 1024).default(16 * 1024 * 1024),
  MONITORING_WRITE_TIMEOUT_MS: int(100, 60_000).default(2_000),
  MONITORING_MAX_ATTEMPTS: int(1, 1000).default(10),
  MONITORING_REJECTED_PER_MINUTE: int(0, 1_000_000).default(600),
  MONITORING_REJECTED_PER_CLIENT_PER_MINUTE: int(0, 1_000_000).default(60),
  RETENTION_DAYS: int(1, 3650).default(30),
  RETENTION_INTERVAL_MS: int(1_000, 7 * 24 * 3600 * 1000).default(3_600_000),
  TRACE_UI_URL: optionalString.refine((s) => s === undefined || /^https?:\/\//.test(s), 'must be an http(s) URL'),
  HEALTH_QUEUE_MAX_AGE_SECONDS: int(1, 86_400).default(60),
  HEALTH_QUEUE_MAX_DEPTH: int(1, 10_000_000).default(1_000),
  HEALTH_DB_LATENCY_WARN_MS: int(1, 60_000).default(100),
  FORWARD_SIGNING_SECRET: optionalString.refine((s) => s === undefined || s.startsWith('whsec_'), 'must start with whsec_'),
});

/** The variables parseConfig reads (for checks that an env file names only real settings). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

export interface Config {
  port: number;
  host: string;
  /** The operations listener (/metrics, health; the admin API when adminApiOnOps): loopback unless set. */
  opsHost: string;
  /** 0 = a free port chosen by the system (tests). */
  opsPort: number;
  adminApiOnOps: boolean;
  publicUrl: string | undefined;
  logLevel: (typeof LOG_LEVELS)[number];
  dataDir: string;
  databaseUrl: string | undefined;
  embeddedPgPort: number;
  dbPoolMax: number;
  dbTimeoutMs: number;
  webhookSecrets: string[] | undefined;
  webhookSigningSecret: string | undefined;
  adminToken: string | undefined;
  rateLimitPerMinute: number;
  /** Web processes a client's requests are spread over; each enforces its share, ceil(rateLimitPerMinute / this). */
  rateLimitProcessCount: number;
  /** Wrong admin tokens allowed per client address per window; then 429 until the window ends. */
  adminAuthMaxFailures: number;
  adminAuthWindowSeconds: number;
  ipAllowlist: IpAllowlist | undefined;
  /** Whose X-Forwarded-For is believed; undefined = nobody's (the socket peer is the client). */
  trustProxy: TrustProxy | undefined;
  bodyLimitBytes: number;
  allowedSymbols: string[];
  maxQuantity: number;
  maxNotional: number;
  /** Quantities (and absolute position sizes) above this are invalid input (422), not declined. */
  inputMaxQuantity: number;
  /** Prices above this are invalid input (422). */
  inputMaxPrice: number;
  maxAlertAgeSeconds: number;
  dedupeWindowSeconds: number;
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  shutdownTimeoutMs: number;
  workerEnabled: boolean;
  workerConcurrency: number;
  workerPollIntervalMs: number;
  /** `npm run worker` only: port of its own GET /metrics (0 = none). */
  workerMetricsPort: number;
  executionMaxAttempts: number;
  executor: (typeof EXECUTORS)[number];
  forwardUrl: string | undefined;
  forwardTimeoutMs: number;
  forwardSigningSecret: string | undefined;
  monitoringEnabled: boolean;
  /** OTLP/HTTP traces URL, from OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces. */
  otlpTracesUrl: string | undefined;
  /** Spans that may wait for the OTLP exporter (the standard OTEL_BSP_MAX_QUEUE_SIZE); beyond it they are dropped and counted. */
  exportQueueMaxSpans: number;
  /** Share of traces exported over OTLP (OTEL_TRACES_SAMPLER[_ARG]); records and metrics always cover every webhook. */
  traceExportRatio: number;
  sinkBatchSize: number;
  sinkFlushIntervalMs: number;
  sinkMaxBufferRecords: number;
  /** Bytes of buffered records (their JSON) held at most while the database is slow or down. */
  sinkMaxBufferBytes: number;
  sinkWriteTimeoutMs: number;
  sinkMaxAttempts: number;
  rejectedRecordsPerMinute: number;
  /** The same bound per client (source address): one noisy sender cannot use up the global one. */
  rejectedRecordsPerClientPerMinute: number;
  retentionDays: number;
  retentionIntervalMs: number;
  traceUiUrl: string | undefined;
  healthQueueMaxAgeSeconds: number;
  healthQueueMaxDepth: number;
  healthDbLatencyWarnMs: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment. Throws ConfigError naming every wrong variable and what it allows. */
export function parseConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings mean "not set" for optional variables, so that `FOO=` in a .env file is harmless.
  const raw: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
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
  const e = parsed.data;
  let ipAllowlist: IpAllowlist | undefined;
  try {
    ipAllowlist = parseIpAllowlist(e.IP_ALLOWLIST);
  } catch (err) {
    throw new ConfigError(`Invalid configuration:\n  IP_ALLOWLIST=${JSON.stringify(e.IP_ALLOWLIST)}: ${(err as Error).message}`);
  }
  let trustProxy: TrustProxy | undefined;
  try {
    trustProxy = parseTrustProxy(e.TRUST_PROXY);
  } catch (err) {
    throw new ConfigError(`Invalid configuration:\n  TRUST_PROXY=${JSON.stringify(e.TRUST_PROXY)}: ${(err as Error).message}`);
  }
  let traceExportRatio: number;
  try {
    traceExportRatio = parseTraceSampler(e.OTEL_TRACES_SAMPLER, e.OTEL_TRACES_SAMPLER_ARG);
  } catch (err) {
    throw new ConfigError(`Invalid configuration:\n  ${(err as Error).message}`);
  }
  if (e.EXECUTOR === 'forward' && !e.FORWARD_URL) {
    throw new ConfigError('Invalid configuration:\n  FORWARD_URL: required when EXECUTOR=forward');
  }
  if (e.OPS_PORT !== 0 && e.OPS_PORT === e.PORT) {
    throw new ConfigError(`Invalid configuration:\n  OPS_PORT=${e.OPS_PORT}: must differ from PORT (the operations listener is a second server)`);
  }
  const secrets = e.WEBHOOK_SECRETS;
  const short = secrets?.findIndex((s) => s.length < MIN_SECRET_CHARS) ?? -1;
  if (short >= 0) {
    throw new ConfigError(
      `Invalid configuration:\n  WEBHOOK_SECRETS: secret number ${short + 1} is shorter than ${MIN_SECRET_CHARS} characters; every secret must be at least ${MIN_SECRET_CHARS} characters, ` +
        'because the secret is all that stands between the internet and your orders and short ones are guessed. ' +
        'Use a random one (openssl rand -base64 32), or unset WEBHOOK_SECRETS to have one generated.',
    );
  }
  return {
    port: e.PORT,
    host: e.HOST,
    opsHost: e.OPS_HOST,
    opsPort: e.OPS_PORT,
    adminApiOnOps: e.ADMIN_API_ON_OPS,
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ''),
    logLevel: e.LOG_LEVEL,
    dataDir: e.DATA_DIR,
    databaseUrl: e.DATABASE_URL,
    embeddedPgPort: e.EMBEDDED_PG_PORT,
    dbPoolMax: e.DB_POOL_MAX,
    dbTimeoutMs: e.DB_TIMEOUT_MS,
    webhookSecrets: secrets && secrets.length > 0 ? secrets : undefined,
    webhookSigningSecret: e.WEBHOOK_SIGNING_SECRET,
    adminToken: e.ADMIN_TOKEN,
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    rateLimitProcessCount: e.RATE_LIMIT_PROCESS_COUNT,
    adminAuthMaxFailures: e.ADMIN_AUTH_MAX_FAILURES,
    adminAuthWindowSeconds: e.ADMIN_AUTH_WINDOW_SECONDS,
    ipAllowlist,
    trustProxy,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    allowedSymbols: e.ALLOWED_SYMBOLS.map((s) => s.toUpperCase()),
    maxQuantity: e.MAX_QUANTITY,
    maxNotional: e.MAX_NOTIONAL,
    inputMaxQuantity: e.INPUT_MAX_QUANTITY,
    inputMaxPrice: e.INPUT_MAX_PRICE,
    maxAlertAgeSeconds: e.MAX_ALERT_AGE_SECONDS,
    dedupeWindowSeconds: e.DEDUPE_WINDOW_SECONDS,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    headersTimeoutMs: e.HEADERS_TIMEOUT_MS,
    keepAliveTimeoutMs: e.KEEP_ALIVE_TIMEOUT_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    workerEnabled: e.WORKER_ENABLED,
    workerConcurrency: e.WORKER_CONCURRENCY,
    workerPollIntervalMs: e.WORKER_POLL_INTERVAL_MS,
    workerMetricsPort: e.WORKER_METRICS_PORT,
    executionMaxAttempts: e.EXECUTION_MAX_ATTEMPTS,
    executor: e.EXECUTOR,
    forwardUrl: e.FORWARD_URL,
    forwardTimeoutMs: e.FORWARD_TIMEOUT_MS,
    forwardSigningSecret: e.FORWARD_SIGNING_SECRET,
    monitoringEnabled: e.MONITORING_ENABLED,
    otlpTracesUrl:
      e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
      (e.OTEL_EXPORTER_OTLP_ENDPOINT ? `${e.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces` : undefined),
    exportQueueMaxSpans: e.OTEL_BSP_MAX_QUEUE_SIZE,
    traceExportRatio,
    sinkBatchSize: e.MONITORING_BATCH_SIZE,
    sinkFlushIntervalMs: e.MONITORING_FLUSH_INTERVAL_MS,
    sinkMaxBufferRecords: e.MONITORING_BUFFER_MAX_RECORDS,
    sinkMaxBufferBytes: e.MONITORING_BUFFER_MAX_BYTES,
    sinkWriteTimeoutMs: e.MONITORING_WRITE_TIMEOUT_MS,
    sinkMaxAttempts: e.MONITORING_MAX_ATTEMPTS,
    rejectedRecordsPerMinute: e.MONITORING_REJECTED_PER_MINUTE,
    rejectedRecordsPerClientPerMinute: e.MONITORING_REJECTED_PER_CLIENT_PER_MINUTE,
    retentionDays: e.RETENTION_DAYS,
    retentionIntervalMs: e.RETENTION_INTERVAL_MS,
    traceUiUrl: e.TRACE_UI_URL?.replace(/\/+$/, ''),
    healthQueueMaxAgeSeconds: e.HEALTH_QUEUE_MAX_AGE_SECONDS,
    healthQueueMaxDepth: e.HEALTH_QUEUE_MAX_DEPTH,
    healthDbLatencyWarnMs: e.HEALTH_DB_LATENCY_WARN_MS,
  };
}
