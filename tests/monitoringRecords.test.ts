import assert from 'node:assert/strict';
import pg from 'pg';
import { sampleValue, scrape } from './support/metricsText.js';
import { startOtlpReceiver } from './support/startOtlpReceiver.js';
import { alert, startTestService, type TestService } from './support/startTestService.js';
import { waitFor } from './support/waitFor.js';

const STAGES_OK = ['received', 'enriching', 'deciding', 'executing', 'completed'];

describe('monitoring: spans, records and metrics for every webhook', function () {
  this.timeout(60_000);
  let svc: TestService;
  let otlp: Awaited<ReturnType<typeof startOtlpReceiver>>;
  before(async () => {
    otlp = await startOtlpReceiver();
    svc = await startTestService({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint, DB_TIMEOUT_MS: '300', WORKER_ENABLED: 'true', WORKER_POLL_INTERVAL_MS: '100' });
  });
  after(async () => {
    await svc.close();
    await otlp.close();
  });

  async function record(webhookId: string) {
    return waitFor(async () => {
      const r = await svc.api(`/api/webhooks/${webhookId}`);
      return r.status === 200 ? r.body : undefined;
    }, { what: `record of ${webhookId}` });
  }

  async function traceOf(webhookId: string) {
    return waitFor(async () => {
      const root = otlp.spans.find((s) => s.attributes['webhook.id'] === webhookId && s.attributes['webhook.record'] === 'request');
      if (!root) return undefined;
      return { root, children: otlp.spans.filter((s) => s.traceId === root.traceId && s !== root) };
    }, { what: `exported trace of ${webhookId}` });
  }

  it('an accepted webhook: record with the seed fields, stages in order, a trace with every stage span, metrics', async () => {
    const before = await scrape(svc.opsUrl);
    const res = await svc.post(alert({ strategy: 'breakout', time: new Date(Date.now() - 1500).toISOString() }), { headers: { 'user-agent': 'Go-http-client/1.1' } });
    assert.equal(res.body.status, 'accepted');
    const detail = await record(res.body.webhookId);
    const w = detail.webhook;
    for (const field of ['id', 'createdAt', 'sourceIp', 'userAgent', 'headers', 'payload', 'payloadSize', 'signature', 'processingTimeMs', 'status', 'errorMessage', 'errorStack', 'signalId', 'traceId']) {
      assert.ok(field in w, `seed field ${field}`);
    }
    assert.equal(w.id, res.body.webhookId);
    assert.equal(w.status, 'success');
    assert.equal(w.outcome, 'accepted');
    assert.equal(w.signalId, res.body.signalId);
    assert.equal(w.sourceIp, '127.0.0.1');
    assert.equal(w.userAgent, 'Go-http-client/1.1');
    assert.equal(w.signature, 'body-secret');
    assert.equal(w.signatureValid, true);
    assert.equal(w.ticker, 'BTCUSDT');
    assert.equal(w.payload.ticker, 'BINANCE:BTCUSDT');
    assert.ok(w.payloadSize > 50);
    assert.ok(w.processingTimeMs > 0);
    assert.match(w.traceId, /^[0-9a-f]{32}$/);
    assert.deepEqual(detail.stages.map((s: any) => s.stage), STAGES_OK);
    for (const s of detail.stages) {
      assert.equal(s.status, 'completed');
      assert.equal(s.traceId, w.traceId);
      assert.match(s.spanId, /^[0-9a-f]{16}$/);
      assert.ok(s.durationMs >= 0);
      assert.ok(Date.parse(s.completedAt) >= Date.parse(s.startedAt));
    }
    assert.equal(detail.stages[2].metadata['trading.decision'], 'accept');
    assert.equal(detail.signal.id, res.body.signalId);

    const { root, children } = await traceOf(res.body.webhookId);
    assert.equal(root.traceId, w.traceId);
    assert.equal(root.kind, 2, 'SERVER');
    assert.equal(root.attributes['http.request.method'], 'POST');
    assert.equal(root.attributes['http.route'], '/api/webhooks/tradingview');
    assert.equal(root.attributes['http.response.status_code'], 200);
    assert.equal(root.attributes['signal.id'], res.body.signalId);
    assert.equal(root.attributes['trading.ticker'], 'BTCUSDT');
    assert.equal(root.attributes['trading.action'], 'buy');
    assert.equal(root.attributes['trading.strategy'], 'breakout');
    assert.equal(root.attributes['webhook.status'], 'success');
    assert.ok(Number(root.attributes['webhook.delivery_lag_ms']) >= 1500);
    assert.equal(root.resource['service.name'], 'tv-webhook');
    const stageSpans = children.filter((s) => s.parentSpanId === root.spanId && s.attributes['webhook.record'] === 'stage').map((s) => s.name);
    assert.deepEqual([...stageSpans].sort(), [...STAGES_OK].sort());
    // The worker's execution joins the same trace.
    const exec = await waitFor(async () => otlp.spans.find((s) => s.name === 'execute_signal' && s.traceId === root.traceId), { what: 'execution span' });
    assert.equal(exec.attributes['execution.executor'], 'paper');
    assert.equal(exec.attributes['execution.outcome'], 'filled');

    const after = await waitFor(async () => {
      const text = await scrape(svc.opsUrl);
      return sampleValue(text, 'signal_executions_total', { executor: 'paper', outcome: 'filled' }) > sampleValue(before, 'signal_executions_total', { executor: 'paper', outcome: 'filled' }) ? text : undefined;
    }, { what: 'execution metric' });
    const delta = (name: string, labels: Record<string, string>) => sampleValue(after, name, labels) - sampleValue(before, name, labels);
    assert.equal(delta('webhook_requests_total', { status: 'success', code: 'accepted' }), 1);
    assert.equal(delta('webhook_processing_duration_seconds_count', { status: 'success' }), 1);
    for (const stage of STAGES_OK) assert.equal(delta('webhook_stage_duration_seconds_count', { stage, status: 'completed' }), 1, stage);
    assert.equal(delta('tradingview_delivery_lag_seconds_count', {}), 1);
    assert.match(after, new RegExp(`webhook_processing_duration_seconds_bucket\\{[^}]*status="success"[^}]*\\} \\d+ # \\{trace_id="[0-9a-f]{32}"\\}`));
  });

  it('a rejected webhook: status rejected with its code, the failing stage and a failed stage, no signal', async () => {
    const before = await scrape(svc.opsUrl);
    const res = await svc.post(alert({ action: 'hodl' }));
    assert.equal(res.status, 422);
    const detail = await record(res.body.webhookId);
    assert.equal(detail.webhook.status, 'rejected');
    assert.equal(detail.webhook.httpStatus, 422);
    assert.equal(detail.webhook.errorCode, 'WH_ERR_UNKNOWN_ACTION');
    assert.match(detail.webhook.errorMessage, /hodl/);
    assert.equal(detail.webhook.signalId, null);
    assert.deepEqual(detail.stages.map((s: any) => [s.stage, s.status]), [['received', 'completed'], ['enriching', 'failed'], ['failed', 'failed']]);
    assert.match(detail.stages[1].errorMessage, /hodl/);
    const { root } = await traceOf(res.body.webhookId);
    assert.equal(root.attributes['webhook.rejection_code'], 'WH_ERR_UNKNOWN_ACTION');
    const after = await scrape(svc.opsUrl);
    assert.equal(sampleValue(after, 'webhook_requests_total', { status: 'rejected', code: 'WH_ERR_UNKNOWN_ACTION' }) - sampleValue(before, 'webhook_requests_total', { status: 'rejected', code: 'WH_ERR_UNKNOWN_ACTION' }), 1);
  });

  it('a GET to the webhook URL: 405 with Allow, recorded as rejected WH_ERR_METHOD_NOT_ALLOWED, counted and traced', async () => {
    const before = await scrape(svc.opsUrl);
    const res = await fetch(`${svc.url}/api/webhooks/tradingview`, { headers: { 'user-agent': 'Mozilla/5.0' } });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'POST');
    const body = (await res.json()) as any;
    assert.equal(body.error.code, 'WH_ERR_METHOD_NOT_ALLOWED');
    const detail = await record(body.webhookId);
    assert.equal(detail.webhook.status, 'rejected');
    assert.equal(detail.webhook.httpStatus, 405);
    assert.equal(detail.webhook.errorCode, 'WH_ERR_METHOD_NOT_ALLOWED');
    assert.equal(detail.webhook.userAgent, 'Mozilla/5.0');
    assert.equal(detail.stages.at(-1).stage, 'failed');
    const { root } = await traceOf(body.webhookId);
    assert.equal(root.name, 'GET /api/webhooks/tradingview');
    assert.equal(root.attributes['http.request.method'], 'GET');
    const after = await scrape(svc.opsUrl);
    const code = { status: 'rejected', code: 'WH_ERR_METHOD_NOT_ALLOWED' };
    assert.equal(sampleValue(after, 'webhook_requests_total', code) - sampleValue(before, 'webhook_requests_total', code), 1);
  });

  it('a failed webhook (database too slow): 503, record failed, the executing stage failed, span status ERROR', async () => {
    const locker = new pg.Client({ connectionString: svc.db.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE signals IN ACCESS EXCLUSIVE MODE');
      const res = await svc.post(alert({ price: 4242 }));
      assert.equal(res.status, 503);
      assert.equal(res.body.error.code, 'WH_ERR_UNAVAILABLE');
      await locker.query('ROLLBACK');
      // A 503 says nothing was stored: the insert must not commit once the lock is gone. A lock that conflicts
      // with an insert's is granted only after any insert still queued for the table has finished.
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE signals IN SHARE MODE');
      await locker.query('COMMIT');
      const stored = await svc.pool.query('SELECT count(*)::int AS n FROM signals WHERE webhook_id = $1', [res.body.webhookId]);
      assert.equal(stored.rows[0].n, 0, 'a signal answered 503 was stored');
      const detail = await record(res.body.webhookId);
      assert.equal(detail.webhook.status, 'failed');
      assert.equal(detail.webhook.errorCode, 'WH_ERR_UNAVAILABLE');
      assert.deepEqual(detail.stages.map((s: any) => [s.stage, s.status]), [
        ['received', 'completed'], ['enriching', 'completed'], ['deciding', 'completed'], ['executing', 'failed'], ['failed', 'failed'],
      ]);
      const { root } = await traceOf(res.body.webhookId);
      assert.equal(root.statusCode, 2, 'ERROR');
      assert.equal(root.attributes['error.type'], 'WH_ERR_UNAVAILABLE');
    } finally {
      await locker.end();
    }
  });

  it('for N webhooks sent, the API, the records, the metrics and the exported traces all account for N', async () => {
    const before = await scrape(svc.opsUrl);
    const recordsBefore = (await svc.pool.query('SELECT count(*)::int AS n FROM webhook_requests')).rows[0].n;
    const sent = [
      ...Array.from({ length: 6 }, (_, i) => alert({ price: 9000 + i })),
      alert({ price: 9000 }), // duplicate
      alert({ secret: 'nope' }),
      alert({ ticker: '{{ticker}}' }),
      alert({ quantity: -1 }),
    ];
    const answers = [];
    for (const body of sent) answers.push(await svc.post(body));
    const ids = answers.map((a) => a.body.webhookId);
    await waitFor(async () => (await svc.pool.query('SELECT count(*)::int AS n FROM webhook_requests WHERE id = ANY($1)', [ids])).rows[0].n === ids.length, { what: 'N records' });
    const stages = await svc.pool.query('SELECT webhook_id, count(*)::int AS n FROM processing_stages WHERE webhook_id = ANY($1) GROUP BY webhook_id', [ids]);
    assert.equal(stages.rows.length, ids.length, 'every webhook has stages');
    const listed = await svc.api(`/api/webhooks?limit=200&since=${encodeURIComponent(new Date(Date.now() - 60_000).toISOString())}`);
    for (const id of ids) assert.ok(listed.body.webhooks.some((w: any) => w.id === id));
    const after = await scrape(svc.opsUrl);
    const total = (t: string) => t.split('\n').filter((l) => l.startsWith('webhook_requests_total{')).reduce((n, l) => n + Number(l.split(' ')[1]), 0);
    assert.equal(total(after) - total(before), ids.length);
    const recordsAfter = (await svc.pool.query('SELECT count(*)::int AS n FROM webhook_requests')).rows[0].n;
    assert.equal(recordsAfter - recordsBefore, ids.length);
    await waitFor(async () => ids.every((id) => otlp.spans.some((s) => s.attributes['webhook.id'] === id && s.attributes['webhook.record'] === 'request')), { what: 'N exported traces' });
    const perf = await svc.api('/api/monitoring/performance?window=last_hour');
    assert.equal(perf.body.requests.total, recordsAfter);
  });

  it('joins the caller trace when the request carries traceparent', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await svc.post(alert({ price: 31337 }), { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    const { root } = await traceOf(res.body.webhookId);
    assert.equal(root.traceId, traceId);
    assert.equal(root.parentSpanId, '00f067aa0ba902b7');
  });
});
