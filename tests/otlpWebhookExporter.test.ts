import assert from 'node:assert/strict';
import http from 'node:http';
import type { FinishedWebhook } from '../src/telemetry/finishedWebhook.js';
import { type ExportHealth, makeExportHealth } from '../src/telemetry/makeCountingExporter.js';
import { OtlpWebhookExporter, type OtlpWebhookExporterOptions } from '../src/telemetry/otlpWebhookExporter.js';
import { extractParent, WebhookTrace } from '../src/telemetry/webhookTrace.js';
import { decodeOtlpTraceRequest } from './support/decodeOtlpTraceRequest.js';
import { finishTestWebhook, TEST_ORIGIN, TEST_TRACING } from './support/finishTestWebhook.js';
import { freePort } from './support/freePort.js';
import { waitFor } from './support/waitFor.js';

const SPANS_PER_WEBHOOK = 6; // the root and received, enriching, deciding, executing, completed

function accepted(): FinishedWebhook {
  return finishTestWebhook(() => {
    const startMs = performance.timeOrigin + performance.now();
    const trace = new WebhookTrace(TEST_TRACING, { name: 'POST /api/webhooks/tradingview', webhookId: crypto.randomUUID(), parent: extractParent({}), startTime: startMs, attributes: { 'http.request.method': 'POST' } });
    for (const stage of ['received', 'enriching', 'deciding', 'executing'] as const) trace.begin(stage);
    trace.finish({ status: 'success', httpStatus: 200, outcome: 'accepted', rejection: false, extras: {} });
    return trace;
  });
}

/** A real OTLP/HTTP endpoint on loopback: answers 200, 500, or never; keeps what each request carried. */
async function startReceiver(answer: 200 | 500 | 'never') {
  const requests: Array<{ method: string; url: string; contentType: string; spans: number; webhookIds: string[] }> = [];
  let connections = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const decoded = decodeOtlpTraceRequest(Buffer.concat(chunks));
      const spans = decoded.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        contentType: req.headers['content-type'] ?? '',
        spans: spans.length,
        webhookIds: spans.filter((s) => s.parentSpanId === '').map((s) => s.attributes.find((a) => a.key === 'webhook.id')!.value).map((v) => (v as { stringValue: string }).stringValue),
      });
      if (answer !== 'never') res.writeHead(answer, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  server.on('connection', () => void (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    requests,
    get connections() {
      return connections;
    },
    spans: () => requests.reduce((n, r) => n + r.spans, 0),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

describe('OtlpWebhookExporter: batches of encoded webhooks POSTed over real HTTP, bounded and counted', function () {
  this.timeout(20_000);
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  function exporter(options: Partial<OtlpWebhookExporterOptions> & { url: string }) {
    const counts = { dropped: 0, failed: 0 };
    const health: ExportHealth = makeExportHealth();
    const e = new OtlpWebhookExporter({
      maxQueueSpans: 8192,
      origin: TEST_ORIGIN,
      health,
      onDropped: (n) => void (counts.dropped += n),
      onFailed: (n) => void (counts.failed += n),
      intervalMs: 60_000,
      ...options,
    });
    cleanup.push(() => e.stop(1000));
    return { e, counts, health };
  }

  it('POSTs application/x-protobuf to the traces URL: every span of every exported webhook, in batches, over one kept-alive connection', async () => {
    const receiver = await startReceiver(200);
    cleanup.push(receiver.close);
    const { e, health } = exporter({ url: receiver.url, maxBatchSpans: 2 * SPANS_PER_WEBHOOK });
    const webhooks = Array.from({ length: 5 }, () => accepted());
    for (const w of webhooks) e.add(w);
    e.add({ ...accepted(), exported: false }); // not sampled for export: nothing sent
    await e.flush();
    assert.deepEqual(receiver.requests.map((r) => r.spans), [12, 12, 6]);
    for (const r of receiver.requests) assert.deepEqual([r.method, r.url, r.contentType], ['POST', '/v1/traces', 'application/x-protobuf']);
    assert.deepEqual(receiver.requests.flatMap((r) => r.webhookIds), webhooks.map((w) => w.webhookId));
    assert.equal(receiver.connections, 1, 'one connection for three requests');
    assert.deepEqual(health, { exported: 30, failed: 0, lastError: null, lastErrorAt: null });
  });

  it('a resource whose detection never settles fails its batch within the time limit (counted) instead of holding every later export', async () => {
    const receiver = await startReceiver(200);
    cleanup.push(receiver.close);
    const resource = Object.create(TEST_ORIGIN.resource, {
      asyncAttributesPending: { value: true },
      waitForAsyncAttributes: { value: () => new Promise<void>(() => undefined) },
    }) as typeof TEST_ORIGIN.resource;
    const stuck = { ...TEST_ORIGIN, resource };
    const { e, counts, health } = exporter({ url: receiver.url, origin: stuck, timeoutMs: 200 });
    e.add(accepted());
    await e.flush();
    assert.equal(counts.failed, SPANS_PER_WEBHOOK);
    assert.match(health.lastError ?? '', /resource detection did not settle within 200 ms/);
    assert.equal(receiver.requests.length, 0);
  });

  it('sends on its timer, without a flush', async () => {
    const receiver = await startReceiver(200);
    cleanup.push(receiver.close);
    const { e } = exporter({ url: receiver.url, intervalMs: 50 });
    e.add(accepted());
    await waitFor(async () => (receiver.spans() === SPANS_PER_WEBHOOK ? true : undefined), { what: 'the timed send' });
  });

  it('a collector answering 500: the batch is counted as failed, with the status in the health; the next batch is sent again', async () => {
    const receiver = await startReceiver(500);
    cleanup.push(receiver.close);
    const { e, counts, health } = exporter({ url: receiver.url });
    e.add(accepted());
    e.add(accepted());
    await e.flush();
    assert.equal(counts.failed, 12);
    assert.equal(health.failed, 12);
    assert.equal(health.exported, 0);
    assert.match(health.lastError ?? '', /HTTP 500/);
    assert.ok(Date.now() - Date.parse(health.lastErrorAt!) < 5000);
    e.add(accepted());
    await e.flush();
    assert.equal(receiver.requests.length, 2, 'no retry of the failed batch; the next one is sent');
    assert.equal(counts.failed, 18);
  });

  it('a collector that is down: counted as failed; adding never waits or throws', async () => {
    const { e, counts, health } = exporter({ url: `http://127.0.0.1:${await freePort()}/v1/traces` });
    const started = performance.now();
    for (let i = 0; i < 20; i++) e.add(accepted());
    assert.ok(performance.now() - started < 1000);
    await e.flush();
    assert.equal(counts.failed, 20 * SPANS_PER_WEBHOOK);
    assert.match(health.lastError ?? '', /ECONNREFUSED/);
  });

  it('a collector that never answers: one request in flight, times out and is counted; past the queue bound whole webhooks are dropped and counted', async () => {
    const receiver = await startReceiver('never');
    cleanup.push(receiver.close);
    const { e, counts, health } = exporter({ url: receiver.url, maxQueueSpans: 2 * SPANS_PER_WEBHOOK, timeoutMs: 500 });
    // The first two fill a batch (sent from a later turn of the event loop); the queue is full until then.
    for (let i = 0; i < 10; i++) e.add(accepted());
    assert.equal(counts.dropped, 8 * SPANS_PER_WEBHOOK);
    await waitFor(async () => (receiver.requests.length === 1 ? true : undefined), { what: 'the first request' });
    // That batch is in flight, out of the queue: two more fit, the third does not.
    for (let i = 0; i < 3; i++) e.add(accepted());
    assert.equal(counts.dropped, 9 * SPANS_PER_WEBHOOK);
    await waitFor(async () => (counts.failed === 12 ? true : undefined), { what: 'the timed-out request counted' });
    assert.match(health.lastError ?? '', /timed out after 500 ms/);
    // Only then the next batch: never two requests at once.
    await waitFor(async () => (receiver.requests.length === 2 ? true : undefined), { what: 'the second request' });
    const started = performance.now();
    await e.stop(200);
    assert.ok(performance.now() - started < 1000, 'stop keeps to its time box');
  });

  it('stop sends what is queued before it returns', async () => {
    const receiver = await startReceiver(200);
    cleanup.push(receiver.close);
    const { e } = exporter({ url: receiver.url });
    for (let i = 0; i < 3; i++) e.add(accepted());
    assert.equal(receiver.requests.length, 0);
    await e.stop(2000);
    assert.equal(receiver.spans(), 3 * SPANS_PER_WEBHOOK);
    e.add(accepted());
    await e.flush();
    assert.equal(receiver.spans(), 3 * SPANS_PER_WEBHOOK, 'nothing is taken after stop');
  });

  it('a webhook whose encoding throws leaves the others in its batch whole', async () => {
    const receiver = await startReceiver(200);
    cleanup.push(receiver.close);
    const { e, health } = exporter({ url: receiver.url });
    const [a, b] = [accepted(), accepted()];
    e.add(a);
    assert.throws(() => e.add({ ...accepted(), spanId: 'zz' }), /not a hex id/);
    e.add(b);
    await e.flush();
    assert.deepEqual(receiver.requests.map((r) => r.webhookIds), [[a.webhookId, b.webhookId]]);
    assert.equal(health.exported, 12);
  });
});
