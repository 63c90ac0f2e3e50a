import { z } from 'zod';
import { parseIpAllowlist } from './parseIpAllowlist.js';
import { parseOtlpHeaders } from './parseOtlpHeaders.js';
import { parseTrustProxy } from './parseTrustProxy.js';

/**
 * Every setting, one line each, grouped by area: its environment variable, its zod schema (type, bounds,
 * default, unit in the name) and its key in the Config object (`config.<area>.<key>`), whose type is inferred
 * from the schema. A new setting is one line here and its row in the README's settings table.
 */

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const EXECUTORS = ['paper', 'forward'] as const;

/** Operator-set shared secrets and tokens: a shorter one is refused at start-up. Generated ones have 43. */
export const MIN_SECRET_CHARS = 16;

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
const optionalUrl = optionalString.refine((s) => s === undefined || /^https?:\/\//.test(s), 'must be an http(s) URL');
/** Whether an http(s) URL carries user information (user:password@); an unparseable one has none to leak. */
const hasUserInfo = (s: string): boolean => {
  try {
    const u = new URL(s);
    return u.username !== '' || u.password !== '';
  } catch {
    return false;
  }
};
const withoutTrailingSlash = (s: string | undefined) => s?.replace(/\/+$/, '');
const positiveNumberOrOff = z.coerce.number().min(0).refine(Number.isFinite, 'must be a finite number');
/** A value parsed by one of our parsers, whose thrown message becomes the variable's configuration error. */
const parsedWith = <T>(parse: (raw: string) => T) => (raw: string, ctx: z.RefinementCtx): T => {
  try {
    return parse(raw);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
};

export interface Setting<S extends z.ZodType = z.ZodType> {
  env: string;
  schema: S;
  /** Its value is never repeated in a configuration error. */
  secret: boolean;
}

const setting = <S extends z.ZodType>(env: string, schema: S, options: { secret?: boolean } = {}): Setting<S> => ({
  env,
  schema,
  secret: options.secret ?? false,
});

export const SETTINGS = {
  service: {
    logLevel: setting('LOG_LEVEL', z.enum(LOG_LEVELS).default('info')),
    dataDir: setting('DATA_DIR', z.string().min(1).default('./.data')),
    publicUrl: setting('PUBLIC_URL', optionalString.transform(withoutTrailingSlash)),
    shutdownTimeoutMs: setting('SHUTDOWN_TIMEOUT_MS', int(100, 600_000).default(10_000)),
  },
  http: {
    port: setting('PORT', int(0, 65535).default(3000)),
    host: setting('HOST', z.string().min(1).default('0.0.0.0')),
    /** The operations listener (/metrics, health; the admin API when adminApiOnOps): loopback unless set. */
    opsHost: setting('OPS_HOST', z.string().min(1).default('127.0.0.1')),
    /** 0 = a free port chosen by the system (tests). */
    opsPort: setting('OPS_PORT', int(0, 65535).default(9300)),
    adminApiOnOps: setting('ADMIN_API_ON_OPS', bool.default(false)),
    bodyLimitBytes: setting('BODY_LIMIT_BYTES', int(256, 10 * 1024 * 1024).default(64 * 1024)),
    requestTimeoutMs: setting('REQUEST_TIMEOUT_MS', int(1_000, 300_000).default(10_000)),
    headersTimeoutMs: setting('HEADERS_TIMEOUT_MS', int(1_000, 300_000).default(5_000)),
    keepAliveTimeoutMs: setting('KEEP_ALIVE_TIMEOUT_MS', int(1_000, 300_000).default(65_000)),
    /** Whose X-Forwarded-For is believed; undefined = nobody's (the socket peer is the client). */
    trustProxy: setting('TRUST_PROXY', z.string().default('false').transform(parsedWith(parseTrustProxy))),
    ipAllowlist: setting('IP_ALLOWLIST', z.string().default('').transform(parsedWith(parseIpAllowlist))),
    rateLimitPerMinute: setting('RATE_LIMIT_PER_MINUTE', int(0, 1_000_000).default(600)),
    /** Web processes a client's requests are spread over; each enforces its share, ceil(rateLimitPerMinute / this). */
    rateLimitProcessCount: setting('RATE_LIMIT_PROCESS_COUNT', int(1, 1_000).default(1)),
    /** Listening sockets on PORT (SO_REUSEPORT), one Fastify app behind them: libuv accepts one connection per socket per event-loop turn (see makeAcceptSockets). */
    acceptSockets: setting('HTTP_ACCEPT_SOCKETS', int(1, 4096).default(1024)),
    /** How far behind (ms of event-loop delay, three turns running while busy 90% of the time) the service may fall before new webhooks get 503 WH_ERR_OVERLOADED with Retry-After; 0 = off. */
    overloadMaxDelayMs: setting('OVERLOAD_MAX_DELAY_MS', int(0, 60_000).default(25)),
    /** Load shedding also refuses while every webhook answered in the last 100 ms (at least 20) took longer than this (ms). */
    overloadMaxAnswerMs: setting('OVERLOAD_MAX_ANSWER_MS', int(1, 60_000).default(250)),
    /** Wrong admin tokens allowed per client address per window; then 429 until the window ends. */
    adminAuthMaxFailures: setting('ADMIN_AUTH_MAX_FAILURES', int(1, 1_000_000).default(10)),
    adminAuthWindowSeconds: setting('ADMIN_AUTH_WINDOW_SECONDS', int(1, 86_400).default(300)),
  },
  secrets: {
    /** Unset (or empty): one is generated into DATA_DIR. Each must have at least MIN_SECRET_CHARS (checked in parseConfig). */
    webhookSecrets: setting('WEBHOOK_SECRETS', list.optional().transform((s) => (s && s.length > 0 ? s : undefined)), { secret: true }),
    webhookSigningSecret: setting(
      'WEBHOOK_SIGNING_SECRET',
      optionalString.refine((s) => s === undefined || s.startsWith('whsec_'), 'must start with whsec_'),
      { secret: true },
    ),
    adminToken: setting(
      'ADMIN_TOKEN',
      optionalString.refine((s) => s === undefined || s.length >= MIN_SECRET_CHARS, `must be at least ${MIN_SECRET_CHARS} characters`),
      { secret: true },
    ),
  },
  /** The webhook pipeline: the decision policy (a decline) and the input bounds (a 422). */
  pipeline: {
    allowedSymbols: setting('ALLOWED_SYMBOLS', list.default([]).transform((s) => s.map((x) => x.toUpperCase()))),
    maxQuantity: setting('MAX_QUANTITY', positiveNumberOrOff.default(0)),
    maxNotional: setting('MAX_NOTIONAL', positiveNumberOrOff.default(0)),
    // Sanity bounds on input (422 above them), unlike the policy's MAX_QUANTITY (a decline). At most 1e15 each, so
    // that quantity x price and the paper book's sums stay far inside a double's exact range and finite.
    /** Quantities (and absolute position sizes) above this are invalid input (422), not declined. */
    inputMaxQuantity: setting('INPUT_MAX_QUANTITY', z.coerce.number().positive().max(1e15).default(1e12)),
    /** Prices above this are invalid input (422). */
    inputMaxPrice: setting('INPUT_MAX_PRICE', z.coerce.number().positive().max(1e15).default(1e12)),
    maxAlertAgeSeconds: setting('MAX_ALERT_AGE_SECONDS', int(0, 7 * 24 * 3600).default(0)),
    dedupeWindowSeconds: setting('DEDUPE_WINDOW_SECONDS', int(1, 7 * 24 * 3600).default(60)),
  },
  database: {
    /** Unset: the embedded server in DATA_DIR. */
    url: setting('DATABASE_URL', optionalString, { secret: true }),
    embeddedPort: setting('EMBEDDED_PG_PORT', int(1, 65535).default(54329)),
    poolMax: setting('DB_POOL_MAX', int(1, 200).default(10)),
    /** The admin API's, the signal watch's and retention's own pool, so that none of them takes the webhooks' connections. */
    // 5: the realtime view runs five queries at once, the performance view four.
    adminPoolMax: setting('DB_ADMIN_POOL_MAX', int(1, 50).default(5)),
    timeoutMs: setting('DB_TIMEOUT_MS', int(50, 60_000).default(2_000)),
    /** How long a signal may wait for its write (group commit) before it is refused with 503 WH_ERR_OVERLOADED; 0 = no bound. */
    signalMaxQueueDelayMs: setting('SIGNAL_MAX_QUEUE_DELAY_MS', int(0, 60_000).default(250)),
    /**
     * Signal batches (statements) written at once. 1: on the 2-core bench machine, 2 in flight cost Postgres 20%
     * more CPU a signal at 1,000/s (809 against 656 µs) and 11% of the closed-loop throughput (see makeSignalWriter).
     */
    signalBatchesInFlight: setting('SIGNAL_BATCHES_IN_FLIGHT', int(1, 20).default(1)),
  },
  worker: {
    enabled: setting('WORKER_ENABLED', bool.default(true)),
    concurrency: setting('WORKER_CONCURRENCY', int(1, 100).default(4)),
    pollIntervalMs: setting('WORKER_POLL_INTERVAL_MS', int(50, 60_000).default(2_000)),
    /** `npm run worker` only: port of its own GET /metrics (0 = none). */
    metricsPort: setting('WORKER_METRICS_PORT', int(0, 65535).default(9464)),
  },
  execution: {
    maxAttempts: setting('EXECUTION_MAX_ATTEMPTS', int(1, 25).default(5)),
    executor: setting('EXECUTOR', z.enum(EXECUTORS).default('paper')),
    // Secret: a bridge's address may carry a token in its query. A user name or password in it is refused: fetch
    // refuses such a URL with an error that quotes it whole, which would reach logs, records and the API.
    forwardUrl: setting(
      'FORWARD_URL',
      optionalUrl.refine((s) => s === undefined || !hasUserInfo(s), 'must not carry a user name or password (user:password@host): send credentials in the URL\'s query or sign with FORWARD_SIGNING_SECRET'),
      { secret: true },
    ),
    forwardTimeoutMs: setting('FORWARD_TIMEOUT_MS', int(100, 60_000).default(5_000)),
    /**
     * How long an attempt keeps trying to record an order that went out (Postgres away) before leaving it to the next
     * attempt (recordSentEffect). It holds the job meanwhile, so no other worker takes the signal.
     */
    recordRetryMs: setting('EXECUTION_RECORD_RETRY_MS', int(0, 600_000).default(30_000)),
    forwardSigningSecret: setting(
      'FORWARD_SIGNING_SECRET',
      optionalString.refine((s) => s === undefined || s.startsWith('whsec_'), 'must start with whsec_'),
      { secret: true },
    ),
  },
  monitoring: {
    enabled: setting('MONITORING_ENABLED', bool.default(true)),
    /** Read into monitoring.otlpTracesUrl (parseConfig). */
    otlpEndpoint: setting('OTEL_EXPORTER_OTLP_ENDPOINT', optionalUrl),
    otlpTracesEndpoint: setting('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', optionalUrl),
    /** The OTLP/HTTP encoding (the standard variable): protobuf by default, as the OpenTelemetry spec says; http/json for a receiver that needs it. */
    otlpProtocol: setting('OTEL_EXPORTER_OTLP_PROTOCOL', z.enum(['http/protobuf', 'http/json']).default('http/protobuf')),
    /** Headers sent with every export (e.g. a hosted backend's API key); the traces variable wins per header (parseConfig). */
    otlpHeadersAll: setting('OTEL_EXPORTER_OTLP_HEADERS', z.string().default('').transform(parsedWith(parseOtlpHeaders)), { secret: true }),
    otlpTracesHeaders: setting('OTEL_EXPORTER_OTLP_TRACES_HEADERS', z.string().default('').transform(parsedWith(parseOtlpHeaders)), { secret: true }),
    /**
     * Spans that may wait for the OTLP exporter (the standard OTEL_BSP_MAX_QUEUE_SIZE); beyond it they are dropped and counted.
     * 131,072 (about 40 MB of encoded webhooks): 8,192 dropped 19,000 spans in 5 s at 5,400 webhooks/s on the bench, a collector
     * that answers in a second holding back about 20,000 spans; 65,536 dropped 2,781 in 5 s at 9,550 webhooks/s (a full run,
     * 2026-11-30, the bench's receiver sharing the two cores with the generator and the service).
     */
    exportQueueMaxSpans: setting('OTEL_BSP_MAX_QUEUE_SIZE', int(1, 1_000_000).default(131_072)),
    /**
     * Spans in one export request at most (the standard OTEL_BSP_MAX_EXPORT_BATCH_SIZE; never more than the queue's
     * bound). Unset: 4,096 for webhooks' spans in protobuf (a request is also sent at 1 MiB), 1,024 on the SDK's path.
     */
    exportBatchMaxSpans: setting('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', int(1, 1_000_000).optional()),
    /** The longest a span waits for its export request to start (the standard OTEL_BSP_SCHEDULE_DELAY, ms). */
    exportScheduleDelayMs: setting('OTEL_BSP_SCHEDULE_DELAY', int(10, 60_000).default(1000)),
    /** Read into monitoring.traceExportRatio (parseConfig). */
    tracesSampler: setting('OTEL_TRACES_SAMPLER', optionalString),
    tracesSamplerArg: setting('OTEL_TRACES_SAMPLER_ARG', optionalString),
    sinkBatchSize: setting('MONITORING_BATCH_SIZE', int(1, 10_000).default(500)),
    sinkFlushIntervalMs: setting('MONITORING_FLUSH_INTERVAL_MS', int(10, 60_000).default(200)),
    /**
     * Records (a webhook's row counts 1 + its stages) buffered at most. Sized with the bytes bound for a burst at
     * twice the machine's rate: on the bench, 5 s at 4,200 webhooks/s (three in four refused with 503, each still
     * recorded) left about 21,000 webhooks, 150,000 records, to write after the burst; 100,000 dropped a fifth.
     */
    sinkMaxBufferRecords: setting('MONITORING_BUFFER_MAX_RECORDS', int(100, 10_000_000).default(1_000_000)),
    /** Bytes of buffered records (their JSON) held at most while the database is slow or down (64 MiB: see above). */
    sinkMaxBufferBytes: setting('MONITORING_BUFFER_MAX_BYTES', int(64 * 1024, 16 * 1024 * 1024 * 1024).default(64 * 1024 * 1024)),
    sinkWriteTimeoutMs: setting('MONITORING_WRITE_TIMEOUT_MS', int(100, 60_000).default(2_000)),
    sinkMaxAttempts: setting('MONITORING_MAX_ATTEMPTS', int(1, 1000).default(10)),
    rejectedRecordsPerMinute: setting('MONITORING_REJECTED_PER_MINUTE', int(0, 1_000_000).default(600)),
    /** The same bound per client (source address): one noisy sender cannot use up the global one. */
    rejectedRecordsPerClientPerMinute: setting('MONITORING_REJECTED_PER_CLIENT_PER_MINUTE', int(0, 1_000_000).default(60)),
    retentionDays: setting('RETENTION_DAYS', int(1, 3650).default(30)),
    retentionIntervalMs: setting('RETENTION_INTERVAL_MS', int(1_000, 7 * 24 * 3600 * 1000).default(3_600_000)),
    traceUiUrl: setting('TRACE_UI_URL', optionalUrl.transform(withoutTrailingSlash)),
    healthQueueMaxAgeSeconds: setting('HEALTH_QUEUE_MAX_AGE_SECONDS', int(1, 86_400).default(60)),
    healthQueueMaxDepth: setting('HEALTH_QUEUE_MAX_DEPTH', int(1, 10_000_000).default(1_000)),
    healthDbLatencyWarnMs: setting('HEALTH_DB_LATENCY_WARN_MS', int(1, 60_000).default(100)),
    /** Health is degraded while a signal that failed this recently is still failed (10 min, as SignalExecutionsFailing). */
    healthExecutionFailureWindowSeconds: setting('HEALTH_EXECUTION_FAILURE_WINDOW_SECONDS', int(1, 7 * 86_400).default(600)),
    /** Issue 15: how often the signal watch looks for missed alerts (position gaps) and learns each strategy's rhythm. */
    signalWatchIntervalMs: setting('SIGNAL_WATCH_INTERVAL_MS', int(1_000, 3_600_000).default(60_000)),
    /**
     * How often the watch learns usual intervals again from the whole lookback window (a median over a week moves
     * little in 15 minutes); the runs between only move last-alert times forward, from the signals since the last run.
     */
    strategyRhythmRefreshMs: setting('STRATEGY_RHYTHM_REFRESH_MS', int(1_000, 86_400_000).default(900_000)),
    /** How far back the watch reads signals: gaps are found, and usual intervals learned, within it. */
    strategyLookbackDays: setting('STRATEGY_LOOKBACK_DAYS', int(1, 90).default(7)),
    /** Strategies reported by name in /metrics (the most recently active); the rest are counted as left out. */
    strategyLabelsMax: setting('STRATEGY_LABELS_MAX', int(1, 1_000).default(50)),
    /** Live streams (GET /api/monitoring/stream) open at once; one more is refused with 429. */
    streamMaxConnections: setting('STREAM_MAX_CONNECTIONS', int(1, 1_000).default(5)),
    /** Events waiting for a slow stream client; past it the oldest are dropped and the client is told. */
    streamQueueMaxEvents: setting('STREAM_QUEUE_MAX_EVENTS', int(1, 100_000).default(1_000)),
  },
} as const satisfies Record<string, Record<string, Setting>>;

/** The parsed values of the settings, area by area: `{ http: { port: number, ... }, ... }`. */
export type SettingValues = {
  [Area in keyof typeof SETTINGS]: {
    [Key in keyof (typeof SETTINGS)[Area]]: (typeof SETTINGS)[Area][Key] extends Setting<infer S> ? z.output<S> : never;
  };
};
