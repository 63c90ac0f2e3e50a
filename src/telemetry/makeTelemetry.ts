import { ProxyTracerProvider, type Tracer, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace';
import type { Logger } from 'pino';
import type { Config } from '../config/parseConfig.js';
import { closePool, makePool } from '../db/makePool.js';
import { toError } from '../domain/errors.js';
import { makeQueueDropCounter } from './makeQueueDropCounter.js';
import { getExportSampler } from './exportSampler.js';
import { type ExportHealth, makeCountingExporter, makeExportHealth } from './makeCountingExporter.js';
import { type InstrumentationComponent, makeMetrics, type Metrics } from './makeMetrics.js';
import { makeMetricsProcessor } from './makeMetricsProcessor.js';
import { makeWebhookMetrics } from './makeWebhookMetrics.js';
import { makeWebhookRecord } from './makeWebhookRecord.js';
import { makeWebhookSpans } from './makeWebhookSpans.js';
import { observeHeapAfterMajorGc } from './observeHeapAfterMajorGc.js';
import { OtlpWebhookExporter } from './otlpWebhookExporter.js';
import { RecordSink } from './recordSink.js';
import { probeSpanOrigin } from './probeSpanOrigin.js';
import { getSpanHub } from './spanHub.js';
import { startTracing } from './startTracing.js';
import { getWebhookHub, type WebhookConsumer } from './webhookHub.js';
import { streamEventOf, WebhookStream } from './webhookStream.js';
import { NOT_TRACED, type WebhookTracing } from './webhookTrace.js';

export type TelemetryConfig = Pick<Config, 'monitoring'>;

export interface Telemetry {
  enabled: boolean;
  /** For the SDK's spans: the worker's execution, an operator's retry. */
  tracer: Tracer;
  /** For webhooks' traces (WebhookTrace), which are not SDK spans. */
  webhookTracing: WebhookTracing;
  metrics: Metrics | undefined;
  sink: RecordSink | undefined;
  exportHealth: ExportHealth | undefined;
  /** Finished webhooks for the live streams (GET /api/monitoring/stream). */
  stream: WebhookStream | undefined;
  /** Detaches from the span hub and flushes the exporter and the sink, within `timeoutMs`. */
  stop(timeoutMs: number): Promise<void>;
}

const noopTracer = new ProxyTracerProvider().getTracer('disabled');

/**
 * Tracing, metrics and monitoring records for one service instance. A webhook's trace captures its root and
 * stages as numbers (WebhookTrace, no SDK span) and, once answered, hands one compact result to the webhook hub:
 * its Prometheus metrics, its Postgres record and (for an exported trace) its OTLP spans are all made from it.
 * The span hub carries the SDK's spans (the worker's execution, an operator's retry) to the SDK's OTLP exporter
 * and the execution metrics. With MONITORING_ENABLED=false there are no spans, no records and no metrics: the
 * tracer is a no-op and webhooks are not traced.
 */
export function makeTelemetry(config: TelemetryConfig, databaseUrl: string, logger: Logger, options: { scramOnly?: boolean } = {}): Telemetry {
  if (!config.monitoring.enabled) {
    return {
      enabled: false,
      tracer: noopTracer,
      webhookTracing: NOT_TRACED,
      metrics: undefined,
      sink: undefined,
      exportHealth: undefined,
      stream: undefined,
      stop: async () => undefined,
    };
  }
  startTracing();
  getExportSampler().setRatio(config.monitoring.traceExportRatio);
  const tracer = trace.getTracer('tv-webhook');
  // Before any consumer is attached: the probe span is never ended, and no consumer sees it start.
  const origin = probeSpanOrigin(tracer);
  const metrics = makeMetrics();
  const sinkPool = makePool({
    connectionString: databaseUrl,
    max: 2,
    timeoutMs: config.monitoring.sinkWriteTimeoutMs,
    logger,
    applicationName: 'tv-webhook-monitoring',
    scramOnly: options.scramOnly,
    // Records are diagnostics: a Postgres crash may lose their last fraction of a second (wal_writer_delay),
    // never a signal (signals commit synchronously on the request pool). The sink then never waits for a WAL
    // flush, and the flushes of signal commits are not shared with records.
    asynchronousCommit: true,
  });
  const sink = new RecordSink({
    pool: sinkPool,
    writeTimeoutMs: config.monitoring.sinkWriteTimeoutMs,
    batchSize: config.monitoring.sinkBatchSize,
    flushIntervalMs: config.monitoring.sinkFlushIntervalMs,
    maxBufferRecords: config.monitoring.sinkMaxBufferRecords,
    maxBufferBytes: config.monitoring.sinkMaxBufferBytes,
    maxAttempts: config.monitoring.sinkMaxAttempts,
    rejectedPerMinute: config.monitoring.rejectedRecordsPerMinute,
    rejectedPerClientPerMinute: config.monitoring.rejectedRecordsPerClientPerMinute,
    metrics,
    logger: logger.child({ component: 'monitoring-sink' }),
  });
  const stream = new WebhookStream();
  const consumers: Array<{ name: InstrumentationComponent; consumer: SpanProcessor }> = [{ name: 'metrics', consumer: makeMetricsProcessor(metrics) }];
  const webhookConsumers: Array<{ name: InstrumentationComponent; consumer: WebhookConsumer }> = [
    { name: 'metrics', consumer: makeWebhookMetrics(metrics) },
    { name: 'sink', consumer: (w) => sink.add(makeWebhookRecord(w)) },
    // The live streams get the same record; it is made for them only while one is open.
    { name: 'stream', consumer: (w) => void (stream.hasListeners() && stream.publish(streamEventOf(makeWebhookRecord(w)))) },
  ];
  let exportHealth: ExportHealth | undefined;
  let batch: BatchSpanProcessor | undefined;
  let webhookExporter: OtlpWebhookExporter | undefined;
  const otlpTracesUrl = config.monitoring.otlpTracesUrl;
  if (otlpTracesUrl) {
    const json = config.monitoring.otlpProtocol === 'http/json';
    exportHealth = makeExportHealth();
    const onDropped = (n: number) => metrics.exportDroppedSpans.inc(n);
    const onFailed = (n: number) => metrics.exportFailures.inc(n);
    const drops = makeQueueDropCounter(config.monitoring.exportQueueMaxSpans, onDropped);
    const counted = makeCountingExporter(new (json ? OTLPJsonTraceExporter : OTLPTraceExporter)({ url: otlpTracesUrl, headers: config.monitoring.otlpHeaders }), onFailed, drops.handedOver, exportHealth);
    // The SDK's path, for the SDK's spans (the worker's execution, an operator's retry) and, with http/json, for
    // webhooks' spans too. Bounded: at most exportQueueMaxSpans spans wait for the collector (131,072 by
    // default: several seconds of spans at the machine's rate); past that the batch processor drops them, and drops
    // counts each one.
    batch = new BatchSpanProcessor({
      exporter: counted.exporter,
      maxQueueSize: config.monitoring.exportQueueMaxSpans,
      maxExportBatchSize: Math.min(config.monitoring.exportBatchMaxSpans ?? 1024, config.monitoring.exportQueueMaxSpans),
      scheduledDelayMillis: config.monitoring.exportScheduleDelayMs,
    });
    const exportQueue = drops.wrap(batch);
    consumers.push({ name: 'otlp', consumer: exportQueue });
    if (json) {
      // http/json, the slower path: a webhook's spans are made as SDK span objects, for an exported trace, and
      // join the batch processor.
      webhookConsumers.push({
        name: 'otlp',
        consumer: (w) => {
          if (!w.exported) return;
          for (const span of makeWebhookSpans(w, origin)) exportQueue.onEnd(span);
        },
      });
    } else {
      // http/protobuf (the default): a webhook's whole trace is encoded straight into the request's bytes and sent
      // by OtlpWebhookExporter. bench/encodeOtlp.ts, 20,000 webhooks of 6 spans to a local receiver: 44 µs of CPU a
      // webhook through the SDK (span objects, batch processor, serializer, HTTP client), 13 µs this way (of which
      // 5-7 µs encoding).
      webhookExporter = new OtlpWebhookExporter({
        url: otlpTracesUrl,
        headers: config.monitoring.otlpHeaders,
        origin,
        maxQueueSpans: config.monitoring.exportQueueMaxSpans,
        maxBatchSpans: config.monitoring.exportBatchMaxSpans,
        intervalMs: config.monitoring.exportScheduleDelayMs,
        health: exportHealth,
        onDropped,
        onFailed,
      });
      webhookConsumers.push({ name: 'otlp', consumer: (w) => webhookExporter!.add(w) });
    }
  }
  // A consumer's error is counted and logged, never passed on to the request path (the hubs isolate it).
  const onError = (name: InstrumentationComponent) => (err: unknown) => {
    metrics.instrumentationErrors.inc({ component: name });
    logger.warn({ err: toError(err), component: name }, 'instrumentation error (request unaffected)');
  };
  const detach = [
    ...consumers.map(({ name, consumer }) => getSpanHub().attach(consumer, onError(name))),
    // Deferred: made after the turn's answers are written (see WebhookHub).
    ...webhookConsumers.map(({ name, consumer }) => getWebhookHub().attach(consumer, onError(name), { deferred: true })),
    observeHeapAfterMajorGc((bytes) => metrics.heapAfterMajorGc.set(bytes), onError('metrics')),
  ];
  return {
    enabled: true,
    tracer,
    webhookTracing: { recording: true, sampler: getExportSampler() },
    metrics,
    sink,
    exportHealth,
    stream,
    async stop(timeoutMs) {
      // The last turn's webhooks reach their consumers before these are detached.
      getWebhookHub().drain();
      detach.forEach((d) => d());
      const bounded = (p: Promise<unknown>) => Promise.race([p, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
      await Promise.all([
        batch ? bounded(batch.shutdown()).catch(() => undefined) : undefined,
        webhookExporter?.stop(timeoutMs),
      ]);
      await sink.stop(timeoutMs);
      await closePool(sinkPool).catch(() => undefined);
    },
  };
}
