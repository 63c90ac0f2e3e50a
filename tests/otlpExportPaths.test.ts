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
