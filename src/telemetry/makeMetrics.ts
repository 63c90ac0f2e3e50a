import client from 'prom-client';

/**
 * Every Prometheus metric of the service, in its own registry, served as OpenMetrics (the format that carries
 * exemplars; Prometheus asks for it by default). Label values come from fixed sets only: statuses, error
 * codes, stage names, executors and outcomes; never a ticker or an id.
 */

/** Seconds. Fine below 10 ms (where the service lives), then around the 100 ms target, up to TradingView's 3 s. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 3];
const EXECUTION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const DELIVERY_LAG_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120, 300];
const SIZE_BUCKETS = [64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 65536];

/**
 * Label sets that exist from the start with the value 0. Without them a counter's first increment creates the
 * series at 1, and `increase()`/`rate()` see no change, so "any failed execution" alerts would miss the first
 * failure and dashboards would show no data for a healthy service.
 */
/** The span consumers whose errors monitoring_instrumentation_errors_total counts. */
export const INSTRUMENTATION_COMPONENTS = ['metrics', 'sink', 'otlp', 'stream'] as const;
export type InstrumentationComponent = (typeof INSTRUMENTATION_COMPONENTS)[number];

const KNOWN_LABELS = {
  requests: [
    { status: 'success', code: 'accepted' }, { status: 'success', code: 'duplicate' }, { status: 'success', code: 'declined' },
    { status: 'failed', code: 'WH_ERR_UNAVAILABLE' }, { status: 'failed', code: 'WH_ERR_OUTCOME_UNKNOWN' },
    { status: 'failed', code: 'WH_ERR_INTERNAL' },
  ],
  declines: ['stale_alert', 'symbol_not_allowed', 'quantity_above_limit', 'notional_above_limit'].map((reason) => ({ reason })),
  executions: [
    ...['filled', 'retry', 'failed'].map((outcome) => ({ executor: 'paper', outcome })),
    ...['forwarded', 'retry', 'failed', 'unrecorded'].map((outcome) => ({ executor: 'forward', outcome })),
  ],
  signalRetries: ['queued', 'declined'].map((result) => ({ result })),
  sinkRecords: ['written', 'retried', 'dropped', 'rate_limited', 'failed'].map((outcome) => ({ outcome })),
  instrumentationErrors: INSTRUMENTATION_COMPONENTS.map((component) => ({ component })),
  adminAuthFailures: ['missing', 'invalid', 'rate_limited'].map((outcome) => ({ outcome })),
};

/** What the record sink holds: records waiting (a webhook's row counts 1 + its stages) and their bytes. */
export interface SinkBuffer {
  records: number;
  bytes: number;
}

export function makeMetrics() {
  const metrics = defineMetrics();
  for (const labels of KNOWN_LABELS.requests) metrics.requests.inc(labels, 0);
  for (const labels of KNOWN_LABELS.declines) metrics.declines.inc(labels, 0);
  for (const labels of KNOWN_LABELS.executions) metrics.executions.inc(labels, 0);
  for (const labels of KNOWN_LABELS.signalRetries) metrics.signalRetries.inc(labels, 0);
  for (const labels of KNOWN_LABELS.sinkRecords) metrics.sinkRecords.inc(labels, 0);
  for (const labels of KNOWN_LABELS.instrumentationErrors) metrics.instrumentationErrors.inc(labels, 0);
  for (const labels of KNOWN_LABELS.adminAuthFailures) metrics.adminAuthFailures.inc(labels, 0);
  return metrics;
}

function defineMetrics() {
  const registry = new client.Registry<typeof client.Registry.OPENMETRICS_CONTENT_TYPE>();
  registry.setContentType(client.Registry.OPENMETRICS_CONTENT_TYPE);
  const registers = [registry] as unknown as client.Registry[];
  client.collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  // The record sink's buffer, read when /metrics is scraped rather than set on every record (two gauge sets a
  // webhook): the sink gives its reader once (setSinkBufferSource).
  let readSinkBuffer: (() => SinkBuffer) | undefined;
  const sinkBufferOf = () => readSinkBuffer?.();
  return {
    registry,
    setSinkBufferSource(read: () => SinkBuffer): void {
      readSinkBuffer = read;
    },
    requests: new client.Counter({
      name: 'webhook_requests_total',
      help: 'Webhook requests answered, by status (success|rejected|failed) and code (accepted|duplicate|declined or WH_ERR_*).',
      labelNames: ['status', 'code'] as const,
      registers,
    }),
    processingSeconds: new client.Histogram({
      name: 'webhook_processing_duration_seconds',
      help: 'End-to-end time from receipt to answer, by status.',
      labelNames: ['status'] as const,
      buckets: LATENCY_BUCKETS,
      enableExemplars: true,
      registers,
    }),
    stageSeconds: new client.Histogram({
      name: 'webhook_stage_duration_seconds',
      help: 'Time spent in each processing stage, by stage and status.',
      labelNames: ['stage', 'status'] as const,
      buckets: LATENCY_BUCKETS,
      // Exemplars end to end only (webhook_processing_duration_seconds): this histogram is observed six times per
      // webhook, and a stage's trace is its webhook's. With label children bound once (makeWebhookMetrics),
      // prom-client's share of a webhook fell from 20 to 11 µs (V8 profile, closed loop).
      registers,
    }),
    payloadBytes: new client.Histogram({
      name: 'webhook_payload_size_bytes',
      help: 'Size of webhook bodies.',
      buckets: SIZE_BUCKETS,
      registers,
    }),
    inFlight: new client.Gauge({ name: 'webhook_requests_in_flight', help: 'Webhook requests being processed.', registers }),
    deliveryLagSeconds: new client.Histogram({
      name: 'tradingview_delivery_lag_seconds',
      help: "Time from the alert's own time (its time field) to receipt.",
      buckets: DELIVERY_LAG_BUCKETS,
      registers,
    }),
    declines: new client.Counter({
      name: 'signal_declines_total',
      help: 'Signals declined by the policy, by reason.',
      labelNames: ['reason'] as const,
      registers,
    }),
    executions: new client.Counter({
      name: 'signal_executions_total',
      help: 'Execution attempts settled by the worker, by executor and outcome (filled|forwarded|failed|retry; unrecorded: executed, but recording it failed).',
      labelNames: ['executor', 'outcome'] as const,
      registers,
    }),
    executionSeconds: new client.Histogram({
      name: 'signal_execution_duration_seconds',
      help: 'Duration of execution attempts, by executor and outcome.',
      labelNames: ['executor', 'outcome'] as const,
      buckets: EXECUTION_BUCKETS,
      enableExemplars: true,
      registers,
    }),
    signalRetries: new client.Counter({
      name: 'signal_retries_total',
      help: 'Operator retries of failed signals (POST /api/signals/:id/retry and the bulk form), by result: queued (a new run) or declined (the policy refuses it now).',
      labelNames: ['result'] as const,
      registers,
    }),
    workerRestarts: new client.Counter({
      name: 'signal_worker_restarts_total',
      help: 'Job runners of the worker that stopped on their own (a job\'s done or failed update failed, which stops graphile-worker\'s pool), each started again once its jobs are unlocked.',
      registers,
    }),
    queueDepth: new client.Gauge({ name: 'signal_queue_depth', help: 'Jobs waiting to execute (not yet run, or waiting for a retry).', registers }),
    queueOldestAgeSeconds: new client.Gauge({
      name: 'signal_queue_oldest_job_age_seconds',
      help: 'Age of the oldest job that is due and not running (0 when none).',
      registers,
    }),
    signalsStuck: new client.Gauge({
      name: 'signals_stuck',
      help: 'Signals that will not settle by themselves: queued or executing, unchanged for HEALTH_QUEUE_MAX_AGE_SECONDS, with no job waiting or running (used up, removed, or locked by a worker that died). Counted by the signal watch every SIGNAL_WATCH_INTERVAL_MS; settle each by hand (POST /api/signals/:id/settle) once its order is checked at the target.',
      registers,
    }),
    lastSignalTimestampSeconds: new client.Gauge({
      name: 'tradingview_last_signal_timestamp_seconds',
      help: 'Unix time at which the latest signal (an authenticated, valid alert) was received; read from the database at scrape time. Absent until the first signal.',
      registers,
    }),
    queueScrapeErrors: new client.Counter({ name: 'signal_queue_scrape_errors_total', help: 'Failed queue-depth queries at scrape time.', registers }),
    sinkRecords: new client.Counter({
      name: 'monitoring_sink_records_total',
      help: 'Monitoring records by outcome: written, retried (a failed write that will be tried again), dropped (buffer full in records or bytes, or shutdown), rate_limited (rejected-request records beyond the global or per-client bound), failed (gave up after retries, or a row the database refuses).',
      labelNames: ['outcome'] as const,
      registers,
    }),
    sinkBuffer: new client.Gauge({
      name: 'monitoring_sink_buffer_records',
      help: 'Monitoring records waiting to be written.',
      registers,
      collect() {
        const buffered = sinkBufferOf();
        if (buffered) this.set(buffered.records);
      },
    }),
    sinkBufferBytes: new client.Gauge({
      name: 'monitoring_sink_buffer_bytes',
      help: 'Memory held by monitoring records waiting to be written (their JSON; bounded by MONITORING_BUFFER_MAX_BYTES).',
      registers,
      collect() {
        const buffered = sinkBufferOf();
        if (buffered) this.set(buffered.bytes);
      },
    }),
    sinkWriteSeconds: new client.Histogram({
      name: 'monitoring_sink_write_duration_seconds',
      help: 'Duration of batch writes of monitoring records.',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    exportFailures: new client.Counter({
      name: 'trace_export_failures_total',
      help: 'Spans the OTLP exporter failed to deliver.',
      registers,
    }),
    exportDroppedSpans: new client.Counter({
      name: 'trace_export_dropped_spans_total',
      help: 'Spans dropped because the OTLP export queue was full (OTEL_BSP_MAX_QUEUE_SIZE).',
      registers,
    }),
    instrumentationErrors: new client.Counter({
      name: 'monitoring_instrumentation_errors_total',
      help: 'Errors inside instrumentation (span consumers), isolated from the request path.',
      labelNames: ['component'] as const,
      registers,
    }),
    adminAuthFailures: new client.Counter({
      name: 'admin_auth_failures_total',
      help: 'Admin API requests refused at the token check, by outcome: missing (no Bearer token), invalid (a wrong token; counts toward ADMIN_AUTH_MAX_FAILURES), rate_limited (refused unchecked after too many wrong tokens from the address).',
      labelNames: ['outcome'] as const,
      registers,
    }),
    // Issue 15: what TradingView never sent. Read at scrape time from the tables the signal watch keeps; the
    // strategy label is a sender-typed name, bounded to STRATEGY_LABELS_MAX recent strategies (strategyLabel).
    strategyLastSignalTimestampSeconds: new client.Gauge({
      name: 'tradingview_strategy_last_signal_timestamp_seconds',
      help: 'Unix time of the latest alert of each strategy (the STRATEGY_LABELS_MAX most recently active; unnamed = alerts without a strategy).',
      labelNames: ['strategy'] as const,
      registers,
    }),
    strategyUsualIntervalSeconds: new client.Gauge({
      name: 'tradingview_strategy_usual_interval_seconds',
      help: "Each strategy's usual time between alerts: the median over STRATEGY_LOOKBACK_DAYS, once it has at least 5 intervals.",
      labelNames: ['strategy'] as const,
      registers,
    }),
    positionGapsOpen: new client.Gauge({
      name: 'tradingview_position_gaps_open',
      help: 'Open position gaps per strategy: an alert said its previous position differed from the last one received, so at least one alert never arrived (other = strategies beyond STRATEGY_LABELS_MAX).',
      labelNames: ['strategy'] as const,
      registers,
    }),
    strategiesLeftOut: new client.Gauge({
      name: 'tradingview_strategies_left_out',
      help: 'Strategies active in the lookback window but beyond STRATEGY_LABELS_MAX: not reported by strategy, so not watched for silence.',
      registers,
    }),
    retentionErrors: new client.Counter({
      name: 'monitoring_retention_errors_total',
      help: 'Failed runs of the monitoring records\' retention (RETENTION_DAYS, every RETENTION_INTERVAL_MS): one that keeps failing lets webhook_requests grow for good.',
      registers,
    }),
    watchErrors: new client.Counter({
      name: 'tradingview_watch_errors_total',
      help: 'Failed runs of the signal watch (gap detection, strategy rhythm, stuck signals) and failed reads of its tables at scrape time.',
      registers,
    }),
    streamConnections: new client.Gauge({
      name: 'monitoring_stream_connections',
      help: 'Open live streams (GET /api/monitoring/stream), at most STREAM_MAX_CONNECTIONS.',
      registers,
    }),
    heapAfterMajorGc: new client.Gauge({
      name: 'nodejs_heap_used_after_major_gc_bytes',
      help: 'V8 heap in use shortly after the latest major (mark-compact) collection: what the process holds. A leak raises it; nodejs_heap_size_used_bytes saws up and down between collections.',
      registers,
    }),
    streamDroppedEvents: new client.Counter({
      name: 'monitoring_stream_dropped_events_total',
      help: 'Live stream events dropped because a client read slower than webhooks arrived (its queue of STREAM_QUEUE_MAX_EVENTS was full); the client is told how many.',
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof makeMetrics>;
