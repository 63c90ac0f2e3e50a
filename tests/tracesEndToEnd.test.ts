import assert from 'node:assert/strict';
import http from 'node:http';
import pg from 'pg';
import { scrape, sampleValue } from './support/metricsText.js';
import { buildJaeger, type JaegerBuild, type JaegerSpan, startCollector, startJaeger } from './support/startOtelStack.js';
import { startShippedPrometheus } from './support/startPrometheus.js';
import { requireTools, TOOLS } from './support/stackTools.js';
import { alert, startTestService, TEST_SECRET, type TestService } from './support/startTestService.js';
import { waitFor } from './support/waitFor.js';

const STAGES_OK = ['received', 'enriching', 'deciding', 'executing', 'completed'];
const SERVICE = 'tv-webhook';
/**
 * TAIL_SAMPLING_SLOW_MS in these tests (compose's default is 100): a fast webhook with its execution stays
 * well below it even on a loaded 2-core machine, so a trace kept here was kept for its status, its
 * slowness or the percentage, as each test says.
 */
const SLOW_MS = 1000;

/** From the first span's start to the last span's end, in ms: what the collector's latency policy measures. */
function traceDurationMs(spans: JaegerSpan[]): number {
  const start = Math.min(...spans.map((s) => s.startTime));
  const end = Math.max(...spans.map((s) => s.startTime + s.duration));
  return (end - start) / 1000;
}

/** Sends an accepted alert the way a slow network does: half the body, a pause, the rest. */
function postSlowly(baseUrl: string, body: string, pauseMs: number): Promise<{ status: number; body: any }> {
  const url = new URL('/api/webhooks/tradingview', baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    const half = Math.floor(body.length / 2);
    req.write(body.slice(0, half));
    setTimeout(() => req.end(body.slice(half)), pauseMs);
  });
}

/** Holds `LOCK TABLE <table>` in a transaction until release() (a real slow database, no stub). */
async function lockTable(url: string, table: string, mode: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('BEGIN');
  await client.query(`LOCK TABLE ${table} IN ${mode} MODE`);
  return {
    async release() {
      await client.query('ROLLBACK');
      await client.end();
    },
  };
}

describe('traces end to end: the service exports to the real collector (otel/collector.yaml), which keeps traces in the real Jaeger', function () {
  this.timeout(120_000);
  let tools: JaegerBuild;
  let jaeger: Awaited<ReturnType<typeof startJaeger>>;

  before(async function () {
    requireTools(this, TOOLS.go, TOOLS.prometheus);
    this.timeout(30 * 60_000); // a cold build (no Go caches) takes minutes; .ci/run builds before the tests
    tools = await buildJaeger();
    jaeger = await startJaeger(tools.bin);
  });
  after(async () => {
    await jaeger?.stop();
  });

  /** The one trace whose spans carry webhook.id = `webhookId`, once Jaeger has it. */
  async function traceOf(webhookId: string, what = `trace of webhook ${webhookId} in Jaeger`): Promise<JaegerSpan[]> {
    return waitFor(async () => {
      const traces = await jaeger.findTraces(SERVICE, { 'webhook.id': webhookId });
      return traces.length === 1 ? traces[0] : undefined;
    }, { timeoutMs: 30_000, what });
  }

  describe('TAIL_SAMPLING_PERCENT=100: every trace kept; Prometheus scrapes the service and the collector with the shipped config', function () {
    let collector: Awaited<ReturnType<typeof startCollector>>;
    let svc: TestService;
    let prom: Awaited<ReturnType<typeof startShippedPrometheus>>;
    before(async () => {
      collector = await startCollector(tools.bin, { jaegerOtlp: jaeger.otlpGrpcEndpoint, percent: 100, slowMs: SLOW_MS });
      svc = await startTestService({
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpHttpUrl,
        TRACE_UI_URL: jaeger.queryUrl,
        WORKER_ENABLED: 'true',
        DB_TIMEOUT_MS: '300',
      });
      prom = await startShippedPrometheus({ 'tv-webhook': new URL(svc.opsUrl).host, 'otel-collector': collector.metricsTarget });
    });
    after(async () => {
      await prom?.stop();
      await svc?.close();
      await collector?.stop();
    });

    it('an accepted webhook is found by its webhook.id tag, with every stage span, the README\'s attributes and the worker\'s execution span', async () => {
      const res = await svc.post(alert({ strategy: 'breakout' }));
      assert.equal(res.body.status, 'accepted');
      const webhookId: string = res.body.webhookId;
      const spans = await waitFor(async () => {
        const t = await traceOf(webhookId);
        return t.some((s) => s.operationName === 'execute_signal') ? t : undefined;
      }, { timeoutMs: 30_000, what: 'the execution span in the webhook\'s trace' });

      const root = spans.find((s) => s.tags['webhook.record'] === 'request');
      assert.ok(root, 'the webhook\'s root span');
      assert.equal(new Set(spans.map((s) => s.traceID)).size, 1, 'one trace');
      assert.equal(root.tags['webhook.id'], webhookId);
      assert.equal(root.tags['webhook.status'], 'success');
      assert.equal(root.tags['signal.id'], res.body.signalId);
      assert.equal(root.tags['trading.ticker'], 'BTCUSDT');
      assert.equal(root.tags['trading.action'], 'buy');
      assert.equal(root.tags['trading.strategy'], 'breakout');
      assert.equal(root.tags['http.request.method'], 'POST');
      assert.equal(root.tags['http.route'], '/api/webhooks/tradingview');
      assert.equal(root.tags['http.response.status_code'], 200);
      assert.equal(root.tags['span.kind'], 'server');
      const stages = spans.filter((s) => s.parentSpanID === root.spanID && s.tags['webhook.record'] === 'stage').map((s) => s.operationName);
      assert.deepEqual([...stages].sort(), [...STAGES_OK].sort());
      const exec = spans.find((s) => s.operationName === 'execute_signal')!;
      assert.equal(exec.traceID, root.traceID, 'the worker\'s execution joins the webhook\'s trace');
      assert.equal(exec.tags['execution.executor'], 'paper');
      assert.equal(exec.tags['signal.id'], res.body.signalId);
      assert.ok(traceDurationMs(spans) < SLOW_MS, `kept for the percentage, not for being slow (${traceDurationMs(spans)} ms)`);
      // The secret never reaches a span.
      assert.doesNotMatch(JSON.stringify(spans), new RegExp(TEST_SECRET));
    });

    it('the trace id in the record (/api/webhooks/:id) and in the exemplars on /metrics and in Prometheus opens that trace', async () => {
      const startSeconds = Date.now() / 1000 - 1;
      const res = await svc.post(alert({ price: '51000' }));
      assert.equal(res.body.status, 'accepted');
      const detail = await waitFor(async () => {
        const r = await svc.api(`/api/webhooks/${res.body.webhookId}`);
        return r.status === 200 ? r.body : undefined;
      }, { what: 'the record' });
      const traceId: string = detail.webhook.traceId;
      assert.equal(detail.traceUrl, `${jaeger.queryUrl}/trace/${traceId}`);
      const opened = await waitFor(async () => jaeger.getTrace(traceId), { timeoutMs: 30_000, what: `trace ${traceId} by its id` });
      assert.ok(opened.some((s) => s.tags['webhook.id'] === res.body.webhookId), 'the record\'s trace is this webhook\'s');
      assert.equal((await fetch(detail.traceUrl)).status, 200, 'Jaeger answers the record\'s link');

      // Exemplars: every trace id the service attaches to a latency bucket opens a trace.
      const text = await scrape(svc.opsUrl);
      const fromMetrics = [...new Set([...text.matchAll(/^webhook_processing_duration_seconds_bucket\{[^}]*\} \d+ # \{trace_id="([0-9a-f]{32})"\}/gm)].map((m) => m[1]!))];
      assert.ok(fromMetrics.includes(traceId), 'the latest webhook\'s trace id is an exemplar on /metrics');
      const fromPrometheus = await waitFor(async () => {
        const series = await prom.exemplars('webhook_processing_duration_seconds_bucket', startSeconds);
        const ids = series.flatMap((s) => s.exemplars.map((e) => e.labels.trace_id!));
        return ids.includes(traceId) ? ids : undefined;
      }, { timeoutMs: 20_000, what: 'the exemplar stored by Prometheus' });
      for (const id of new Set([...fromMetrics, ...fromPrometheus])) {
        await waitFor(async () => jaeger.getTrace(id), { timeoutMs: 30_000, what: `exemplar trace ${id} in Jaeger` });
      }
    });

    it('Prometheus scrapes the collector\'s own metrics; OtelCollectorDown stays silent while it runs and goes pending once it stops', async () => {
      const up = await waitFor(async () => {
        const rows = await prom.query('up{job="otel-collector"} == 1');
        return rows.length === 1 ? rows : undefined;
      }, { what: 'the collector scraped' });
      assert.equal(up[0]!.metric.instance, collector.metricsTarget);
      const accepted = await waitFor(async () => {
        const rows = await prom.query('sum(otelcol_receiver_accepted_spans_total{job="otel-collector"}) > 0');
        return rows.length ? rows : undefined;
      }, { what: 'spans the collector received, in Prometheus' });
      assert.ok(Number(accepted[0]!.value[1]) > 0);
      const sent = await prom.query('sum(otelcol_exporter_sent_spans_total{job="otel-collector", exporter="otlp/jaeger"}) > 0');
      assert.equal(sent.length, 1, 'spans sent on to Jaeger');
      // Several evaluations with the collector up: no alert about it in any state.
      const evaluations = async () => Number((await prom.query('count_over_time(up{job="otel-collector"}[1h])'))[0]?.value[1] ?? 0);
      const start = await evaluations();
      await waitFor(async () => (await evaluations()) >= start + 3, { what: 'three more scrapes' });
      assert.deepEqual(await prom.query('ALERTS{alertname="OtelCollectorDown"}'), []);

      // The same rule notices the collector gone: this check can fail.
      await collector.stop();
      const pending = await waitFor(async () => {
        const rows = await prom.query('ALERTS{alertname="OtelCollectorDown"}');
        return rows.length ? rows : undefined;
      }, { what: 'OtelCollectorDown pending' });
      assert.equal(pending[0]!.metric.alertstate, 'pending');
    });
  });

  describe('TAIL_SAMPLING_PERCENT=0: only rejected, failed and slow traces are kept', function () {
    let collector: Awaited<ReturnType<typeof startCollector>>;
    let svc: TestService;
    before(async () => {
      collector = await startCollector(tools.bin, { jaegerOtlp: jaeger.otlpGrpcEndpoint, percent: 0, slowMs: SLOW_MS });
      // A failed webhook here is one whose write timed out after 150 ms: fast, so it is kept for failing only.
      // Its execution (the paper executor) starts at once, by LISTEN/NOTIFY.
      svc = await startTestService({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpHttpUrl, WORKER_ENABLED: 'true', DB_TIMEOUT_MS: '150' });
    });
    after(async () => {
      await svc?.close();
      await collector?.stop();
    });

    /** The collector's count of decided traces, kept (sampled="true") or dropped. */
    async function decided(sampled: 'true' | 'false'): Promise<number> {
      return sampleValue(await collector.metrics(), 'otelcol_processor_tail_sampling_global_count_traces_sampled_total', { sampled });
    }
    async function executed(webhookId: string) {
      return waitFor(async () => {
        const r = await svc.api(`/api/webhooks/${webhookId}`);
        return r.status === 200 && r.body.executions?.length ? r.body : undefined;
      }, { timeoutMs: 30_000, what: `execution of ${webhookId}` });
    }

    it('keeps a rejected, a failed and a slow webhook, and drops a fast successful one', async () => {
      // First the fast success (its execution included), so its decision comes before the others'.
      const fast = await svc.post(alert({ price: '52000' }));
      assert.equal(fast.body.status, 'accepted');
      const fastRecord = await executed(fast.body.webhookId);
      const fastMs = Date.parse(fastRecord.executions[0].completedAt) - Date.parse(fastRecord.webhook.createdAt);
      assert.ok(fastMs < SLOW_MS, `the fast webhook and its execution took ${fastMs} ms`);

      const rejected = await svc.post(alert({ action: 'hodl' }));
      assert.equal(rejected.status, 422);
      const lock = await lockTable(svc.db.url, 'signals', 'ACCESS EXCLUSIVE');
      const failed = await svc.post(alert({ price: '52001' }));
      await lock.release();
      assert.equal(failed.status, 503);
      const slow = await postSlowly(svc.url, JSON.stringify(alert({ price: '52002' })), SLOW_MS + 300);
      assert.equal(slow.body.status, 'accepted');

      const keptRejected = await traceOf(rejected.body.webhookId);
      assert.equal(keptRejected.find((s) => s.tags['webhook.record'] === 'request')!.tags['webhook.rejection_code'], 'WH_ERR_UNKNOWN_ACTION');
      const keptFailed = await traceOf(failed.body.webhookId);
      const failedRoot = keptFailed.find((s) => s.tags['webhook.record'] === 'request')!;
      assert.equal(failedRoot.tags['otel.status_code'], 'ERROR');
      assert.ok(failedRoot.duration < SLOW_MS * 1000, `kept for failing, not for being slow (${failedRoot.duration} µs)`);
      const keptSlow = await traceOf(slow.body.webhookId);
      const slowRoot = keptSlow.find((s) => s.tags['webhook.record'] === 'request')!;
      assert.ok(slowRoot.duration > SLOW_MS * 1000, `${slowRoot.duration} µs`);
      assert.equal(slowRoot.tags['webhook.status'], 'success');

      // The fast success was decided before the slow one reached Jaeger: dropped, stages and execution alike.
      assert.ok((await decided('false')) >= 1, 'the collector dropped a trace');
      assert.deepEqual(await jaeger.findTraces(SERVICE, { 'webhook.id': fast.body.webhookId }), []);
      assert.equal(await jaeger.getTrace(fastRecord.webhook.traceId), undefined);
    });

    it('an execution counts while the decision is open: a slow one keeps its trace, one that ends after the decision is dropped with it', async () => {
      const droppedBefore = await decided('false');
      // Executions wait on the lock (the worker's INSERT into executions), so each takes as long as it is held.
      let lock = await lockTable(svc.db.url, 'executions', 'EXCLUSIVE');
      const slowExec = await svc.post(alert({ price: '53000' }));
      assert.equal(slowExec.body.status, 'accepted');
      // Held longer than SLOW_MS, and released well before the decision (5 s after the webhook's spans reach
      // the collector). The hold makes the input (a slow execution); no result is awaited by sleeping.
      await new Promise((resolve) => setTimeout(resolve, SLOW_MS + 300));
      await lock.release();
      const kept = await waitFor(async () => {
        const t = await traceOf(slowExec.body.webhookId);
        return t.some((s) => s.operationName === 'execute_signal') ? t : undefined;
      }, { timeoutMs: 30_000, what: 'the slow execution in the kept trace' });
      const root = kept.find((s) => s.tags['webhook.record'] === 'request')!;
      assert.ok(root.duration < SLOW_MS * 1000, 'the webhook itself was fast: the execution made the trace slow');
      assert.ok(traceDurationMs(kept) > SLOW_MS, `${traceDurationMs(kept)} ms`);

      lock = await lockTable(svc.db.url, 'executions', 'EXCLUSIVE');
      const lateExec = await svc.post(alert({ price: '53001' }));
      assert.equal(lateExec.body.status, 'accepted');
      // Held until the collector has decided on the webhook's trace (fast, so dropped at 0%).
      await waitFor(async () => (await decided('false')) > droppedBefore, { timeoutMs: 20_000, what: 'the decision on the late execution\'s trace' });
      const lateBefore = sampleValue(await collector.metrics(), 'otelcol_processor_tail_sampling_sampling_late_span_age_seconds_count');
      await lock.release();
      const record = await executed(lateExec.body.webhookId);
      // The execution span arrives after the decision, takes it over (dropped), and is counted as late.
      await waitFor(async () => sampleValue(await collector.metrics(), 'otelcol_processor_tail_sampling_sampling_late_span_age_seconds_count') > lateBefore, { timeoutMs: 20_000, what: 'the late span counted' });
      assert.equal(await jaeger.getTrace(record.webhook.traceId), undefined, 'a late execution cannot make its trace slow');
    });
  });
});
