import assert from 'node:assert/strict';
import { parseConfig } from '../src/config/parseConfig.js';
import { startOtlpReceiver } from './support/startOtlpReceiver.js';
import { alert, startTestService } from './support/startTestService.js';

const TRACE = ['POST /api/webhooks/tradingview', 'completed', 'deciding', 'enriching', 'executing', 'received'];

/**
 * Both OTLP encodings export a webhook's whole trace, each span once, with the operator's headers: http/protobuf
 * (the default) through OtlpWebhookExporter, encoded from the compact result, with the root SDK span kept from
 * the batch processor; http/json through the SDK's batch processor and JSON exporter (the slower path), as before.
 */
describe('OTLP export paths: each span exported once, whichever the encoding', function () {
  this.timeout(60_000);
  for (const protocol of ['http/protobuf', 'http/json']) {
    it(`${protocol}: the root and its five stages, once each, in the encoding asked for, with the operator's headers`, async () => {
      const otlp = await startOtlpReceiver();
      const svc = await startTestService({
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
        OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=k%3D1,x-tenant=a',
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-tenant=b',
      });
      let webhookId: string;
      try {
        const res = await svc.post(alert({ price: 909 }));
        assert.equal(res.body.status, 'accepted');
        webhookId = res.body.webhookId;
      } finally {
        await svc.close(); // flushes the exporters
        await otlp.close();
      }
      const spans = otlp.spans.filter((s) => s.attributes['webhook.id'] === webhookId);
      assert.deepEqual(spans.map((s) => s.name).sort(), TRACE);
      const root = spans.find((s) => s.parentSpanId === '')!;
      for (const s of spans) if (s !== root) assert.equal(s.parentSpanId, root.spanId);
      assert.equal(root.resource['service.name'], 'tv-webhook');
      const json = protocol === 'http/json';
      assert.ok(otlp.raw.length > 0);
      for (const body of otlp.raw) assert.equal(body.startsWith('{'), json, 'the encoding asked for');
      for (const h of otlp.headers) {
        assert.equal(h['content-type'], json ? 'application/json' : 'application/x-protobuf');
        assert.deepEqual([h['x-api-key'], h['x-tenant']], ['k=1', 'b'], 'the OTEL_EXPORTER_OTLP_*HEADERS, the traces one winning');
      }
    });
  }

  it('OTEL_BSP_MAX_EXPORT_BATCH_SIZE bounds the spans of each export request, and is read with OTEL_BSP_SCHEDULE_DELAY', async () => {
    const otlp = await startOtlpReceiver();
    const svc = await startTestService({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint, OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '6', OTEL_BSP_SCHEDULE_DELAY: '50' });
    const ids: string[] = [];
    try {
      for (let i = 0; i < 4; i++) ids.push((await svc.post(alert({ price: 300 + i }))).body.webhookId);
    } finally {
      await svc.close();
      await otlp.close();
    }
    for (const id of ids) assert.equal(otlp.spans.filter((s) => s.attributes['webhook.id'] === id).length, 6, 'every trace whole');
    assert.ok(otlp.spansPerRequest.length >= 4, `${otlp.spansPerRequest.length} requests`);
    assert.ok(otlp.spansPerRequest.every((n) => n <= 6), `spans a request: ${otlp.spansPerRequest.join(', ')}`);
    const monitoring = parseConfig({ OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '512', OTEL_BSP_SCHEDULE_DELAY: '250' }).monitoring;
    assert.deepEqual([monitoring.exportBatchMaxSpans, monitoring.exportScheduleDelayMs], [512, 250]);
    assert.deepEqual([parseConfig({}).monitoring.exportBatchMaxSpans, parseConfig({}).monitoring.exportScheduleDelayMs], [undefined, 1000]);
    assert.throws(() => parseConfig({ OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '0' }), /OTEL_BSP_MAX_EXPORT_BATCH_SIZE/);
    assert.throws(() => parseConfig({ OTEL_BSP_SCHEDULE_DELAY: 'soon' }), /OTEL_BSP_SCHEDULE_DELAY/);
  });

  it('reads OTEL_EXPORTER_OTLP_HEADERS as percent-encoded key=value pairs, and refuses others without repeating them', () => {
    const headers = (env: Record<string, string>) => parseConfig(env).monitoring.otlpHeaders;
    assert.deepEqual(headers({}), {});
    assert.deepEqual(headers({ OTEL_EXPORTER_OTLP_HEADERS: ' Authorization=Bearer%20abc , x-a=1=2,' }), { authorization: 'Bearer abc', 'x-a': '1=2' });
    assert.deepEqual(headers({ OTEL_EXPORTER_OTLP_HEADERS: 'a=1,b=2', OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'b=3' }), { a: '1', b: '3' });
    for (const bad of ['token', '=x', 'a=%zz', 'authorization=Bearer%20x%0D%0AX-Injected:%201', 'bad%20name=1']) {
      assert.throws(() => parseConfig({ OTEL_EXPORTER_OTLP_HEADERS: bad }), (err: Error) => err.message.includes('OTEL_EXPORTER_OTLP_HEADERS=(') && !err.message.includes(`=${JSON.stringify(bad)}`));
    }
  });
});
