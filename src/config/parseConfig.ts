import { z } from 'zod';
import { parseIpAllowlist, type IpAllowlist } from './parseIpAllowlist.js';

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
const positiveNumberOrOff = z.coerce.number().min(0).refine(Number.isFinite, 'must be a finite number');

const envSchema = z.object({
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  PUBLIC_URL: optionalString,
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  DATA_DIR: z.string().min(1).default('./.data'),
  DATABASE_URL: optionalString,
  EMBEDDED_PG_PORT: int(1, 65535).default(54329),
  DB_POOL_MAX: int(1, 200).default(10),
  DB_TIMEOUT_MS: int(50, 60_000).default(2_000),
  WEBHOOK_SECRETS: list.optional(),
  WEBHOOK_SIGNING_SECRET: optionalString.refine((s) => s === undefined || s.startsWith('whsec_'), 'must start with whsec_'),
  ADMIN_TOKEN: optionalString.refine((s) => s === undefined || s.length >= 16, 'must be at least 16 characters'),
  RATE_LIMIT_PER_MINUTE: int(0, 1_000_000).default(600),
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
  MONITORING_BATCH_SIZE: int(1, 10_000).default(500),
  MONITORING_FLUSH_INTERVAL_MS: int(10, 60_000).default(200),
  MONITORING_BUFFER_MAX_RECORDS: int(100, 10_000_000).default(100_000),
  MONITORING_WRITE_TIMEOUT_MS: int(100, 60_000).default(2_000),
  MONITORING_MAX_ATTEMPTS: int(1, 1000).default(10),
  MONITORING_REJECTED_PER_MINUTE: int(0, 1_000_000).default(600),
  RETENTION_DAYS: int(1, 3650).default(30),
  RETENTION_INTERVAL_MS: int(1_000, 7 * 24 * 3600 * 1000).default(3_600_000),
  TRACE_UI_URL: optionalString.refine((s) => s === undefined || /^https?:\/\//.test(s), 'must be an http(s) URL'),
  HEALTH_QUEUE_MAX_AGE_SECONDS: int(1, 86_400).default(60),
  HEALTH_QUEUE_MAX_DEPTH: int(1, 10_000_000).default(1_000),
  HEALTH_DB_LATENCY_WARN_MS: int(1, 60_000).default(100),
  FORWARD_SIGNING_SECRET: optionalString.refine((s) => s === undefined || s.startsWith('whsec_'), 'must start with whsec_'),
});

export interface Config {
  port: number;
  host: string;
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
  ipAllowlist: IpAllowlist | undefined;
  trustProxy: boolean | number | string[];
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
  sinkBatchSize: number;
  sinkFlushIntervalMs: number;
  sinkMaxBufferRecords: number;
  sinkWriteTimeoutMs: number;
  sinkMaxAttempts: number;
  rejectedRecordsPerMinute: number;
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

function parseTrustProxy(raw: string): boolean | number | string[] {
  const v = raw.trim().toLowerCase();
  if (v === '' || v === 'false' || v === '0' || v === 'no') return false;
  if (v === 'true' || v === 'yes') return true;
  if (/^\d+$/.test(v)) return Number(v);
  // A comma list of proxy addresses or CIDRs whose X-Forwarded-For is believed.
  return raw.split(',').map((s) => s.trim()).filter(Boolean);
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
      return `${name}=${JSON.stringify(raw[name] ?? '')}: ${issue.message}`;
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
  if (e.EXECUTOR === 'forward' && !e.FORWARD_URL) {
    throw new ConfigError('Invalid configuration:\n  FORWARD_URL: required when EXECUTOR=forward');
  }
  const secrets = e.WEBHOOK_SECRETS;
  if (secrets && secrets.some((s) => s.length < 8)) {
    throw new ConfigError('Invalid configuration:\n  WEBHOOK_SECRETS: every secret must be at least 8 characters');
  }
  return {
    port: e.PORT,
    host: e.HOST,
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
    ipAllowlist,
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
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
    sinkBatchSize: e.MONITORING_BATCH_SIZE,
    sinkFlushIntervalMs: e.MONITORING_FLUSH_INTERVAL_MS,
    sinkMaxBufferRecords: e.MONITORING_BUFFER_MAX_RECORDS,
    sinkWriteTimeoutMs: e.MONITORING_WRITE_TIMEOUT_MS,
    sinkMaxAttempts: e.MONITORING_MAX_ATTEMPTS,
    rejectedRecordsPerMinute: e.MONITORING_REJECTED_PER_MINUTE,
    retentionDays: e.RETENTION_DAYS,
    retentionIntervalMs: e.RETENTION_INTERVAL_MS,
    traceUiUrl: e.TRACE_UI_URL?.replace(/\/+$/, ''),
    healthQueueMaxAgeSeconds: e.HEALTH_QUEUE_MAX_AGE_SECONDS,
    healthQueueMaxDepth: e.HEALTH_QUEUE_MAX_DEPTH,
    healthDbLatencyWarnMs: e.HEALTH_DB_LATENCY_WARN_MS,
  };
}
