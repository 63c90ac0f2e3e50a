import { startReceiverThread } from './startReceiverThread.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT_CONTEXT, SpanKind, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, type ReadableSpan, type SpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { ATTR } from '../src/telemetry/attributes.js';
import { encodeOtlpSpans } from '../src/telemetry/encodeOtlpSpans.js';
import { ExportSampler } from '../src/telemetry/exportSampler.js';
import type { FinishedWebhook } from '../src/telemetry/finishedWebhook.js';
import { makeCountingExporter, makeExportHealth } from '../src/telemetry/makeCountingExporter.js';
import { makeQueueDropCounter } from '../src/telemetry/makeQueueDropCounter.js';
import { makeWebhookSpans } from '../src/telemetry/makeWebhookSpans.js';
import { OtlpEnvelope, type SpanOrigin } from '../src/telemetry/otlpEnvelope.js';
import { OtlpWebhookExporter } from '../src/telemetry/otlpWebhookExporter.js';
import { ProtobufWriter } from '../src/telemetry/protobufWriter.js';
import { getWebhookHub } from '../src/telemetry/webhookHub.js';
import { extractParent, WebhookTrace } from '../src/telemetry/webhookTrace.js';

/**
 * `npm run build && node dist/bench/encodeOtlp.js [webhooks] [none,sdk,own]`: the CPU that one exported webhook's
 * trace (its root and 5 stage spans, attributes as the service sets them) costs on the service's thread,
 * - `sdk`, the old way: the root as an SDK span (started, given its attributes and ended, which hands it to the
 *   batch processor), the stages as span objects (makeWebhookSpans, what makeStageSpans made), the SDK's
 *   BatchSpanProcessor and protobuf OTLPTraceExporter with the drop and failure counters;
 * - `own`, the new way: OtlpWebhookExporter (encoded from the compact result, batched, POSTed);
 * - `none`: nothing exported, the cost of the feeding loop and the measuring, subtracted from both;
 * each to a discarding OTLP receiver on another thread, in the same run, alternating. Then, without HTTP, the
 * root SDK span alone and the encoding alone (the SDK serializer on span objects, per batch of 1024 spans,
 * against encodeOtlpSpans). The webhooks are traced (as numbers) before measuring. Both queues are large enough
 * that nothing is dropped (checked).
 */
const WEBHOOKS = Number(process.argv[2] ?? 20_000);
const ROUNDS = 2;
/**
 * Webhooks are added 50 at a time every 5 ms (up to 10,000/s, less when the path cannot keep up): sending overlaps
 * adding, as in the service. Added all at once, the SDK path refuses exports ("Concurrent export limit reached").
 */
const FEED_CHUNK = 50;
const FEED_PAUSE_MS = 5;

const threadMicros = () => {
  const u = process.threadCpuUsage();
  return u.user + u.system;
};

const ORIGIN: SpanOrigin = {
  resource: resourceFromAttributes({
    'service.name': 'tv-webhook',
    'telemetry.sdk.language': 'nodejs',
    'telemetry.sdk.name': 'opentelemetry',
    'telemetry.sdk.version': '3.1.0',
    'host.name': 'bench-host',
    'host.arch': 'amd64',
    'os.type': 'linux',
    'process.pid': process.pid,
    'process.executable.name': 'node',
    'process.runtime.name': 'nodejs',
    'process.runtime.version': process.versions.node,
    'process.command_args': process.argv,
  }),
  scope: { name: 'tv-webhook' },
};
const TRACING = { recording: true, sampler: new ExportSampler() };

/** A webhook traced as the service traces an accepted alert. */
function traceWebhook(i: number): FinishedWebhook {
  let finished: FinishedWebhook | undefined;
  const detach = getWebhookHub().attach((w) => void (finished = w), (err) => {
    throw err;
  });
  const startMs = performance.timeOrigin + performance.now();
  const trace = new WebhookTrace(TRACING, {
    name: 'POST /api/webhooks/tradingview',
    webhookId: crypto.randomUUID(),
    parent: extractParent({}),
    startTime: startMs,
    attributes: {
      [ATTR.httpMethod]: 'POST',
      [ATTR.httpRoute]: '/api/webhooks/tradingview',
      [ATTR.urlPath]: '/api/webhooks/tradingview',
      [ATTR.clientAddress]: '52.89.214.238',
      [ATTR.userAgent]: 'Go-http-client/1.1',
    },
  });
  trace.begin('received', startMs);
  trace.attributes({ [ATTR.payloadSize]: 160 + (i % 7), [ATTR.authScheme]: 'body-secret', [ATTR.authValid]: true });
  trace.begin('enriching');
  trace.attributes({ [ATTR.ticker]: `SYM${i % 20}USDT`, [ATTR.exchange]: 'BINANCE', [ATTR.action]: i % 2 ? 'buy' : 'sell', [ATTR.strategy]: 'bench', [ATTR.deliveryLagMs]: 412 + (i % 100) });
  trace.begin('deciding');
  trace.stageAttributes({ [ATTR.decision]: 'accept' });
  trace.begin('executing');
  const signalId = crypto.randomUUID();
  trace.stageAttributes({ [ATTR.signalId]: signalId, [ATTR.outcome]: 'accepted' });
  trace.attributes({ [ATTR.signalId]: signalId });
  trace.finish({ status: 'success', httpStatus: 200, outcome: 'accepted', rejection: false, extras: {} });
  detach();
  return finished!;
}

/**
 * The root span as the SDK span it was: a tracer whose ids are the webhook's, and whose span ends go to
 * `processor` (as they went through the span hub to the batch processor).
 */
function makeSdkRoots(processor: SpanProcessor) {
  const ids = { traceId: '', spanId: '' };
  const tracer: Tracer = new TracerProvider({
    resource: ORIGIN.resource,
    sampler: new ExportSampler(),
    spanProcessors: [processor],
    idGenerator: { generateTraceId: () => ids.traceId, generateSpanId: () => ids.spanId },
  }).getTracer(ORIGIN.scope.name);
  return (w: FinishedWebhook) => {
    ids.traceId = w.traceId;
    ids.spanId = w.spanId;
    const a = w.attributes;
    const span = tracer.startSpan(
      w.name,
      {
        kind: SpanKind.SERVER,
        startTime: w.startMs,
        attributes: { [ATTR.httpMethod]: a[ATTR.httpMethod], [ATTR.httpRoute]: a[ATTR.httpRoute], [ATTR.urlPath]: a[ATTR.urlPath], [ATTR.clientAddress]: a[ATTR.clientAddress], [ATTR.userAgent]: a[ATTR.userAgent], [ATTR.webhookId]: w.webhookId, [ATTR.record]: 'request' },
      },
      ROOT_CONTEXT,
    );
    span.setAttributes(a);
    span.end(w.endMs);
  };
}

interface Path {
  add(w: FinishedWebhook): void;
  /** Resolves once everything added has been answered by the receiver. */
  drain(): Promise<void>;
  dropped(): number;
  stop(): Promise<void>;
}

function nullPath(): Path {
  return { add: () => undefined, drain: async () => undefined, dropped: () => 0, stop: async () => undefined };
}

function sdkPath(url: string): Path {
  let dropped = 0;
  const drops = makeQueueDropCounter(1_000_000, (n) => void (dropped += n));
  const counted = makeCountingExporter(new OTLPTraceExporter({ url }), () => undefined, drops.handedOver);
  const batch = new BatchSpanProcessor({ exporter: counted.exporter, maxQueueSize: 1_000_000, maxExportBatchSize: 1024, scheduledDelayMillis: 1000 });
  const queue = drops.wrap(batch);
  const endRoot = makeSdkRoots(queue);
  return {
    add(w) {
      endRoot(w);
      for (const span of makeWebhookSpans(w, ORIGIN).slice(1)) queue.onEnd(span);
    },
    drain: () => batch.forceFlush(),
    dropped: () => dropped + counted.health.failed,
    stop: () => batch.shutdown(),
  };
}

function ownPath(url: string): Path {
  let dropped = 0;
  const exporter = new OtlpWebhookExporter({
    url,
    origin: ORIGIN,
    maxQueueSpans: 1_000_000,
    health: makeExportHealth(),
    onDropped: (n) => void (dropped += n),
    onFailed: (n) => void (dropped += n),
  });
  return { add: (w) => exporter.add(w), drain: () => exporter.flush(), dropped: () => dropped, stop: () => exporter.stop(1000) };
}

const PATHS: Record<string, { make: (url: string) => Path; spansPerWebhook: number }> = {
  none: { make: nullPath, spansPerWebhook: 0 },
  sdk: { make: sdkPath, spansPerWebhook: 6 },
  own: { make: ownPath, spansPerWebhook: 6 },
};

async function measure(name: string, webhooks: FinishedWebhook[], count: number, receiver: Awaited<ReturnType<typeof startReceiverThread>>) {
  const { make, spansPerWebhook } = PATHS[name]!;
  const path = make(receiver.url);
  const before = await receiver.stats();
  const process0 = process.cpuUsage();
  const thread0 = threadMicros();
  const wall0 = performance.now();
  for (let i = 0; i < count; i++) {
    path.add(webhooks[i % webhooks.length]!);
    if (i % FEED_CHUNK === FEED_CHUNK - 1) await sleep(FEED_PAUSE_MS);
  }
  await path.drain();
  const thread = threadMicros() - thread0;
  const processCpu = process.cpuUsage(process0);
  const wallMs = performance.now() - wall0;
  const after = await receiver.stats();
  await path.stop();
  const spans = after.spans - before.spans;
  const expected = count * spansPerWebhook;
  if (spans !== expected || path.dropped() > 0 || after.unreadable > 0) {
    throw new Error(`${name}: ${spans} of ${expected} spans arrived, ${path.dropped()} dropped or failed, ${after.unreadable} unreadable requests`);
  }
  const receiverCpu = after.cpuMicros - before.cpuMicros;
  return {
    name,
    threadMicrosPerWebhook: thread / count,
    // Every thread of the process but the receiver's: the main thread plus GC and other helper threads.
    processMicrosPerWebhook: (processCpu.user + processCpu.system - receiverCpu) / count,
    requests: after.requests - before.requests,
    bytesPerWebhook: (after.bytes - before.bytes) / count,
    wallMs,
  };
}

/** Without HTTP: the root SDK span alone, then the SDK serializer on span objects against encodeOtlpSpans. */
function withoutHttp(webhooks: FinishedWebhook[], count: number) {
  let ended = 0;
  const endRoot = makeSdkRoots({ onStart: () => undefined, onEnd: () => void (ended += 1), forceFlush: async () => undefined, shutdown: async () => undefined });
  let t0 = threadMicros();
  for (let i = 0; i < count; i++) endRoot(webhooks[i % webhooks.length]!);
  const root = (threadMicros() - t0) / count;
  if (ended !== count) throw new Error('root spans not ended');

  const perBatch = Math.floor(1024 / (1 + webhooks[0]!.stages.length));
  const roots: ReadableSpan[] = [];
  const keepRoots = makeSdkRoots({ onStart: () => undefined, onEnd: (s) => void roots.push(s), forceFlush: async () => undefined, shutdown: async () => undefined });
  for (const w of webhooks) keepRoots(w);
  let bytes = 0;
  t0 = threadMicros();
  for (let i = 0; i < count; i += perBatch) {
    const spans: ReadableSpan[] = [];
    for (let j = i; j < Math.min(count, i + perBatch); j++) {
      const k = j % webhooks.length;
      spans.push(roots[k]!, ...makeWebhookSpans(webhooks[k]!, ORIGIN).slice(1));
    }
    bytes += ProtobufTraceSerializer.serializeRequest(spans)!.length;
  }
  const sdk = (threadMicros() - t0) / count;
  const sdkBytes = bytes / count;

  const envelope = new OtlpEnvelope(ORIGIN);
  const writer = new ProtobufWriter(1024 * 1024);
  bytes = 0;
  t0 = threadMicros();
  for (let i = 0; i < count; i += perBatch) {
    writer.pos = 0;
    for (let j = i; j < Math.min(count, i + perBatch); j++) encodeOtlpSpans(webhooks[j % webhooks.length]!, writer);
    const { head, tail } = envelope.wrap(writer.pos);
    bytes += head.length + writer.pos + tail.length;
  }
  const own = (threadMicros() - t0) / count;
  return { root, sdk, own, sdkBytes, ownBytes: bytes / count };
}

const only = process.argv[3]?.split(',');
const names = Object.keys(PATHS).filter((name) => !only || only.includes(name));
const webhooks = Array.from({ length: 512 }, (_, i) => traceWebhook(i));
const receiver = await startReceiverThread();
const fmt = (x: number) => x.toFixed(1);
try {
  // Warm-up (JIT) of each path, not reported.
  for (const name of names) await measure(name, webhooks, 2000, receiver);
  withoutHttp(webhooks, 2000);
  const results: Array<Awaited<ReturnType<typeof measure>>> = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of round % 2 === 0 ? names : [...names].reverse()) results.push(await measure(name, webhooks, WEBHOOKS, receiver));
  }
  console.log(`${WEBHOOKS} exported webhooks (6 spans each) to a discarding OTLP receiver on another thread, Node ${process.version}:`);
  console.log('path  thread µs/webhook  process µs/webhook  requests  bytes/webhook  wall ms');
  for (const r of results) {
    console.log(`${r.name.padEnd(5)} ${fmt(r.threadMicrosPerWebhook).padStart(17)} ${fmt(r.processMicrosPerWebhook).padStart(19)} ${String(r.requests).padStart(9)} ${fmt(r.bytesPerWebhook).padStart(14)} ${fmt(r.wallMs).padStart(8)}`);
  }
  const mean = (name: string, key: 'threadMicrosPerWebhook' | 'processMicrosPerWebhook') => {
    const rows = results.filter((r) => r.name === name);
    return rows.reduce((s, r) => s + r[key], 0) / rows.length;
  };
  if (names.length === 3) {
    for (const key of ['threadMicrosPerWebhook', 'processMicrosPerWebhook'] as const) {
      const base = mean('none', key);
      const sdk = mean('sdk', key) - base;
      const own = mean('own', key) - base;
      console.log(`${key} above none (${fmt(base)}): sdk ${fmt(sdk)}, own ${fmt(own)}, ratio ${(sdk / own).toFixed(1)}x`);
    }
  }
  const e = withoutHttp(webhooks, WEBHOOKS);
  console.log(`without HTTP (thread µs/webhook): the root SDK span alone ${fmt(e.root)}; encoding: SDK serializer on span objects ${fmt(e.sdk)} (${fmt(e.sdkBytes)} bytes), encodeOtlpSpans ${fmt(e.own)} (${fmt(e.ownBytes)} bytes), ratio ${(e.sdk / e.own).toFixed(1)}x`);
} finally {
  await receiver.close();
}
