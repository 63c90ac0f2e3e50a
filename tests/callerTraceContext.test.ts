import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { parseConfig } from '../src/config/parseConfig.js';
import { sampleValue, scrape } from './support/metricsText.js';
import { startOtlpReceiver } from './support/startOtlpReceiver.js';
import { alert, startTestService, type TestService } from './support/startTestService.js';
import { waitFor } from './support/waitFor.js';
import { readJobPayload } from './support/jobQueue.js';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
/** A caller's traceparent with its sampled flag set (01) or not (00). */
const callerTraceparent = (traceId: string, sampled: boolean) => `00-${traceId}-${hex(8)}-${sampled ? '01' : '00'}`;

describe('caller trace context: correlated with, never obeyed', function () {
  this.timeout(60_000);

  async function record(svc: TestService, webhookId: string) {
    return waitFor(async () => {
      const r = await svc.api(`/api/webhooks/${webhookId}`);
      return r.status === 200 ? r.body : undefined;
    }, { what: `record of ${webhookId}` });
  }

  describe('a caller that sends sampled=0', () => {
    let svc: TestService;
    before(async () => {
      svc = await startTestService();
    });
    after(async () => svc.close());

    it('still gets a record in its trace, counts in /metrics, and its signal carries the trace id', async () => {
      const before = await scrape(svc.opsUrl);
      const traceId = hex(16);
      const res = await svc.post(alert({ price: 4242 }), { headers: { traceparent: callerTraceparent(traceId, false) } });
      assert.equal(res.status, 200);
      const detail = await record(svc, res.body.webhookId);
      assert.equal(detail.webhook.status, 'success');
      assert.equal(detail.webhook.traceId, traceId, 'joins the caller trace');
      assert.equal(detail.stages.length, 5);
      const signal = await svc.api(`/api/signals/${res.body.signalId}`);
      assert.equal(signal.body.signal.traceId, traceId);
      const stored = await readJobPayload(svc.pool, res.body.signalId);
      // The worker joins the same trace, with our export decision (the default exports every trace), not the caller's.
      assert.match(String(stored?.traceparent), new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
      const after = await scrape(svc.opsUrl);
      const delta = (labels: Record<string, string>) => sampleValue(after, 'webhook_requests_total', labels) - sampleValue(before, 'webhook_requests_total', labels);
      assert.equal(delta({ status: 'success', code: 'accepted' }), 1);
    });

    it('a wrong secret with sampled=0 is recorded and counted, so the brute-force alert sees it', async () => {
      const before = await scrape(svc.opsUrl);
      const res = await svc.post(alert({ secret: 'guess-number-one' }), { headers: { traceparent: callerTraceparent(hex(16), false) } });
      assert.equal(res.status, 401);
      assert.equal((await record(svc, res.body.webhookId)).webhook.errorCode, 'WH_ERR_AUTH_INVALID');
      const labels = { status: 'rejected', code: 'WH_ERR_AUTH_INVALID' };
      assert.equal(sampleValue(await scrape(svc.opsUrl), 'webhook_requests_total', labels) - sampleValue(before, 'webhook_requests_total', labels), 1);
    });
  });

  describe('OTLP export follows OTEL_TRACES_SAMPLER, whatever the caller sends', () => {
    async function run(sampler: Record<string, string>, sampled: boolean) {
      const otlp = await startOtlpReceiver();
      const svc = await startTestService({
        ...sampler,
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint,
        WORKER_ENABLED: 'true',
        WORKER_POLL_INTERVAL_MS: '100',
      });
      try {
        const traceId = hex(16);
        const res = await svc.post(alert({ price: 777 }), { headers: { traceparent: callerTraceparent(traceId, sampled) } });
        assert.equal(res.status, 200);
        const detail = await record(svc, res.body.webhookId);
        assert.equal(detail.webhook.traceId, traceId);
        // The worker executed it: its execution is counted whether or not its span is exported.
        const metrics = await waitFor(async () => {
          const text = await scrape(svc.opsUrl);
          return sampleValue(text, 'signal_executions_total', { executor: 'paper', outcome: 'filled' }) === 1 ? text : undefined;
        }, { what: 'the execution' });
        assert.equal(sampleValue(metrics, 'webhook_requests_total', { status: 'success', code: 'accepted' }), 1);
        return { traceId, otlp, webhookId: res.body.webhookId as string, svc };
      } finally {
        // Stopping flushes the exporter: after this, every span that was going to be exported has been.
        await svc.close();
        await otlp.close();
      }
    }

    it('always_on exports the whole trace, worker execution included, for a caller that sent sampled=0', async () => {
      const { traceId, otlp } = await run({ OTEL_TRACES_SAMPLER: 'always_on' }, false);
      const names = otlp.spans.filter((s) => s.traceId === traceId).map((s) => s.name).sort();
      assert.deepEqual(names, ['POST /api/webhooks/tradingview', 'completed', 'deciding', 'enriching', 'execute_signal', 'executing', 'received'].sort());
    });

    it('always_off and parentbased_always_off export nothing for a caller that sent sampled=1, yet record and count it', async () => {
      for (const sampler of ['always_off', 'parentbased_always_off']) {
        const { otlp } = await run({ OTEL_TRACES_SAMPLER: sampler }, true);
        assert.equal(otlp.spans.length, 0, `${sampler}: ${otlp.spans.map((s) => s.name).join(', ')}`);
      }
    });
  });

  it('reads the standard OTEL_TRACES_SAMPLER names as an export ratio and refuses others, naming the variable', () => {
    const ratio = (env: Record<string, string>) => parseConfig(env).monitoring.traceExportRatio;
    assert.equal(ratio({}), 1);
    assert.equal(ratio({ OTEL_TRACES_SAMPLER: 'parentbased_always_off' }), 0);
    assert.equal(ratio({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }), 0.25);
    assert.equal(ratio({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio' }), 1);
    assert.throws(() => parseConfig({ OTEL_TRACES_SAMPLER: 'jaeger_remote' }), /OTEL_TRACES_SAMPLER="jaeger_remote".*always_on/);
    assert.throws(() => parseConfig({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' }), /OTEL_TRACES_SAMPLER_ARG="2".*0 to 1/);
  });

  it('traceidratio exports a share of traces, each whole or not at all; a caller picks neither the trace id nor the flag that decides', async () => {
    const otlp = await startOtlpReceiver();
    const svc = await startTestService({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.5', OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint });
    const own: string[] = [];
    const fromCaller: string[] = [];
    // A ratio sampler applied to this trace id keeps it at any ratio above 0; the caller also asks for sampling.
    const chosenTraceparent = callerTraceparent('00000000000000000000000000000001', true);
    try {
      for (let i = 0; i < 24; i++) {
        const mine = await svc.post(alert({ price: 1000 + i }));
        const theirs = await svc.post(alert({ price: 2000 + i }), { headers: { traceparent: chosenTraceparent } });
        assert.equal(mine.status, 200);
        assert.equal(theirs.status, 200);
        own.push(mine.body.webhookId);
        fromCaller.push(theirs.body.webhookId);
      }
      await waitFor(async () => {
        const { rows } = await svc.pool.query('SELECT count(*)::int AS n FROM webhook_requests');
        return rows[0].n === own.length + fromCaller.length;
      }, { what: 'every webhook recorded' });
    } finally {
      await svc.close();
      await otlp.close();
    }
    const exportedSpans = (webhookId: string) => otlp.spans.filter((s) => s.attributes['webhook.id'] === webhookId).length;
    for (const ids of [own, fromCaller]) {
      const counts = ids.map(exportedSpans);
      for (const n of counts) assert.ok(n === 0 || n === 6, `a trace is exported whole (root and 5 stages) or not at all: ${n} spans`);
      const exported = counts.filter((n) => n > 0).length;
      // 24 fair coins: all heads or all tails has a probability of 2^-23.
      assert.ok(exported > 0 && exported < ids.length, `${exported} of ${ids.length} exported`);
    }
  });
});
