import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { ReadableSpan, Span } from '@opentelemetry/sdk-trace';
import { makePool, type Pool } from '../src/db/makePool.js';
import type { FinishedWebhook } from '../src/telemetry/finishedWebhook.js';
import { makeWebhookRecord } from '../src/telemetry/makeWebhookRecord.js';
import { RecordSink } from '../src/telemetry/recordSink.js';
import { serializeRecord } from '../src/telemetry/serializeRecord.js';
import { getSpanHub } from '../src/telemetry/spanHub.js';
import { DEFERRED_DELAY_MS, getWebhookHub } from '../src/telemetry/webhookHub.js';
import { sampleValue, scrape } from './support/metricsText.js';
import { startOtlpReceiver } from './support/startOtlpReceiver.js';
import { alert, startTestService, type TestService } from './support/startTestService.js';
import { createTestDatabase, type TestDatabase } from './support/testDatabase.js';
import { waitFor } from './support/waitFor.js';

const STAGES_OK = ['received', 'enriching', 'deciding', 'executing', 'completed'];

/**
 * The structure monitoring's cost rests on (issue 13), asserted as behaviour, never timed: a webhook's stages are
 * captured as numbers (no SDK span per webhook, not even its root), and its record, metrics and exported spans are
 * all made from the one compact result handed to the webhook hub; records are stored compactly and written one
 * statement per batch.
 */
describe('monitoring from one compact result', function () {
  this.timeout(60_000);
  let svc: TestService;
  let otlp: Awaited<ReturnType<typeof startOtlpReceiver>>;
  const finished: FinishedWebhook[] = [];
  const sdkSpansStarted: string[] = [];
  const detach: Array<() => void> = [];
  before(async () => {
    otlp = await startOtlpReceiver();
    svc = await startTestService({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint, MONITORING_FLUSH_INTERVAL_MS: '20' });
    detach.push(getWebhookHub().attach((w) => finished.push(w), (err) => assert.fail(String(err))));
    detach.push(
      getSpanHub().attach(
        {
          onStart: (span: Span) => void sdkSpansStarted.push(String((span as unknown as ReadableSpan).attributes['webhook.id'] ?? span.name)),
          onEnd: () => undefined,
          forceFlush: async () => undefined,
          shutdown: async () => undefined,
        },
        (err) => assert.fail(String(err)),
      ),
    );
  });
  after(async () => {
    detach.forEach((d) => d());
    await svc.close();
    await otlp.close();
  });

  it('a scrape of /metrics counts every webhook answered before it, though monitoring batches them', async () => {
    const hub = getWebhookHub();
    const label = { status: 'success', code: 'accepted' };
    const before = sampleValue(await scrape(svc.opsUrl), 'webhook_requests_total', label);
    hub.delayMs = 60_000;
    try {
      const res = await svc.post(alert({ price: 7021 }));
      assert.equal(res.body.status, 'accepted');
      assert.equal(sampleValue(await scrape(svc.opsUrl), 'webhook_requests_total', label) - before, 1);
    } finally {
      hub.delayMs = DEFERRED_DELAY_MS;
    }
  });

  it('the request path starts no SDK span for a webhook; its root and stages are plain numbers', async () => {
    const res = await svc.post(alert({ price: 701 }));
    assert.equal(res.body.status, 'accepted');
    assert.deepEqual(sdkSpansStarted.filter((id) => id === res.body.webhookId), []);
    // The observer does see the SDK's spans (the worker's execution is one).
    svc.telemetry.tracer.startSpan('control', { attributes: { 'webhook.id': 'control' } }).end();
    assert.deepEqual(sdkSpansStarted.filter((id) => id === 'control'), ['control']);
    const w = finished.find((f) => f.webhookId === res.body.webhookId)!;
    assert.deepEqual(w.stages.map((s) => s.stage), STAGES_OK);
    for (const s of w.stages) {
      assert.equal(typeof s.startMs, 'number');
      assert.ok(s.endMs >= s.startMs);
    }
  });

  it('its record, its metrics and its exported spans are all made from that result', async () => {
    const before = await scrape(svc.opsUrl);
    const res = await svc.post(alert({ price: 702 }));
    const w = finished.find((f) => f.webhookId === res.body.webhookId)!;
    assert.ok(w, 'the webhook hub got the finished webhook');

    // The record: its stages' span ids, order and durations are the result's.
    const detail = await waitFor(async () => {
      const r = await svc.api(`/api/webhooks/${res.body.webhookId}`);
      return r.status === 200 ? r.body : undefined;
    }, { what: 'the record' });
    assert.equal(detail.webhook.traceId, w.traceId);
    assert.deepEqual(detail.stages.map((s: any) => s.spanId), w.stages.map((s) => s.spanId));
    detail.stages.forEach((s: any, i: number) => assert.ok(Math.abs(s.durationMs - (w.stages[i]!.endMs - w.stages[i]!.startMs)) < 0.002, s.stage));
    assert.ok(Math.abs(detail.webhook.processingTimeMs - (w.endMs - w.startMs)) < 0.002);

    // The exported trace: the root has the result's ids, the stage spans carry the result's ids as its children.
    const exported = await waitFor(async () => {
      const spans = otlp.spans.filter((s) => s.traceId === w.traceId);
      return spans.length === 1 + STAGES_OK.length ? spans : undefined;
    }, { what: 'the exported trace' });
    const root = exported.find((s) => s.attributes['webhook.record'] === 'request')!;
    assert.equal(root.spanId, w.spanId);
    const stageSpans = exported.filter((s) => s !== root);
    assert.deepEqual(stageSpans.map((s) => s.spanId).sort(), w.stages.map((s) => s.spanId).sort());
    for (const s of stageSpans) assert.equal(s.parentSpanId, w.spanId);

    // The metrics: one more request, and the end-to-end duration observed is the result's.
    const after = await scrape(svc.opsUrl);
    const delta = (name: string, labels: Record<string, string>) => sampleValue(after, name, labels) - sampleValue(before, name, labels);
    assert.equal(delta('webhook_requests_total', { status: 'success', code: 'accepted' }), 1);
    assert.ok(Math.abs(delta('webhook_processing_duration_seconds_sum', { status: 'success' }) - (w.endMs - w.startMs) / 1000) < 1e-6);
    for (const s of w.stages) assert.equal(delta('webhook_stage_duration_seconds_count', { stage: s.stage, status: 'completed' }), 1, s.stage);
  });

  it('stores stages as arrays (name, offset and duration in whole µs, no span id) and the view derives the rest, span ids included', async () => {
    const res = await svc.post(alert({ price: 703 }));
    await waitFor(async () => ((await svc.api(`/api/webhooks/${res.body.webhookId}`)).status === 200 ? true : undefined), { what: 'the record' });
    const { stages, created_at: createdAt, trace_id: traceId } = (await svc.pool.query('SELECT stages::json AS stages, created_at, trace_id FROM webhook_requests WHERE id = $1', [res.body.webhookId])).rows[0];
    assert.deepEqual(stages.map((s: unknown[]) => s[0]), STAGES_OK);
    for (const s of stages) {
      assert.ok(Array.isArray(s) && s.length >= 3 && s.length <= 4, JSON.stringify(s));
      assert.ok(Number.isInteger(s[1]) && Number.isInteger(s[2]), 'offset and duration in whole µs');
      if (s.length === 4) assert.equal(typeof s[3], 'object', 'the fourth element is metadata');
    }
    const view = (await svc.pool.query('SELECT * FROM processing_stages WHERE webhook_id = $1 ORDER BY started_at, id', [res.body.webhookId])).rows;
    assert.equal(view.length, STAGES_OK.length);
    const hex = String(res.body.webhookId).replaceAll('-', '');
    view.forEach((v, i) => {
      assert.equal(v.duration_ms, stages[i][2] / 1000);
      assert.equal(v.started_at.getTime(), createdAt.getTime() + Math.trunc(stages[i][1] / 1000));
      assert.equal(v.trace_id, traceId);
      assert.equal(v.status, 'completed');
      assert.ok(v.started_at.getTime() >= createdAt.getTime());
      assert.ok(v.completed_at.getTime() >= v.started_at.getTime());
      assert.equal(v.span_id, `${hex.slice(16, 30)}0${i + 1}`, 'a span id is its webhook id\'s bytes 8-14 and its ordinal');
      assert.equal(v.id.replaceAll('-', '').slice(16), v.span_id, 'a stage id is its webhook id\'s time and its span id');
    });
    assert.deepEqual(view.map((v) => v.metadata), stages.map((s: unknown[]) => s[3] ?? {}));
    assert.equal(new Set(view.map((v) => v.id)).size, view.length);
  });

  describe('the record sink', () => {
    let db: TestDatabase;
    let pool: Pool;
    before(async () => {
      db = await createTestDatabase();
      pool = makePool({ connectionString: db.url, max: 2, timeoutMs: 5000, logger: pino({ level: 'silent' }) });
    });
    after(async () => {
      await pool.end();
      await db.drop();
    });

    it('writes a batch of webhooks, whatever its size, in one statement', async () => {
      const sink = new RecordSink({
        pool, batchSize: 500, flushIntervalMs: 60_000, maxBufferRecords: 100_000, maxBufferBytes: 64 * 1024 * 1024, maxAttempts: 3,
        rejectedPerMinute: 0, rejectedPerClientPerMinute: 0, metrics: undefined, logger: pino({ level: 'silent' }),
      });
      // Real results from the service's webhooks, each stored again under a new id.
      const sample = finished.slice(0, 3);
      assert.ok(sample.length >= 3);
      const statements: string[] = [];
      pool.on('acquire', (client) => {
        const query = client.query.bind(client) as (...args: unknown[]) => unknown;
        (client as unknown as { query: unknown }).query = (...args: unknown[]) => {
          statements.push(String((args[0] as { text?: string }).text ?? args[0]));
          return query(...args);
        };
      });
      for (let i = 0; i < 300; i++) {
        const w = sample[i % sample.length]!;
        sink.add({ ...makeWebhookRecord(w), id: `0192${i.toString(16).padStart(4, '0')}-0000-7000-8000-000000000000` });
      }
      await sink.flushOnce();
      assert.equal(statements.length, 1, statements.join('\n---\n'));
      assert.equal((await pool.query('SELECT count(*)::int AS n FROM webhook_requests')).rows[0].n, 300);
      assert.equal(sink.getStats().written, 300 * (1 + STAGES_OK.length));
      await sink.stop(1000);
    });
  });

  it("a record's COPY tuple reuses the JSON made on the way, and is the same tuple as one written from the values alone", async () => {
    const deep: Record<string, unknown> = {};
    let cursor = deep;
    for (let i = 0; i < 40; i++) cursor = (cursor.next = {}) as Record<string, unknown>;
    const sent = [
      await svc.post(alert({ price: 9702, note: 'tab\there, newline\nthere, backslash \\ and "quotes"' })),
      await svc.post(alert({ action: 'hodl', note: 'bad \u0000 NUL and \ud800 lone surrogate' })),
      await svc.post(alert({ price: 9703, strategy: 's'.repeat(5000), deep })),
      await svc.post('{"ticker": "BTC", }'),
      await svc.post(alert({ secret: 'wrong-secret-0123456789' })),
    ];
    let reused = 0;
    for (const res of sent) {
      const w = await waitFor(async () => finished.find((f) => f.webhookId === res.body.webhookId), { what: `finished ${res.body.webhookId}` });
      const record = makeWebhookRecord(w);
      if (record.jsonText?.headers !== undefined) reused += 1;
      assert.deepEqual(serializeRecord(record), serializeRecord({ ...record, jsonText: undefined }), `webhook ${res.status} ${res.body.error?.code ?? ''}`);
    }
    assert.equal(reused, sent.length, 'every record came with the JSON of its headers');
  });
});
