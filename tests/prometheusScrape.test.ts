import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { parse as parseYaml } from 'yaml';
import { renderDashboards } from '../grafana/src/writeDashboards.js';
import { projectRoot } from '../src/db/projectRoot.js';
import { startPrometheus } from './support/startPrometheus.js';
import { requireTools, TOOLS } from './support/stackTools.js';
import { alert, startTestService, TEST_SECRET, type TestService } from './support/startTestService.js';
import { waitFor } from './support/waitFor.js';

type Prometheus = Awaited<ReturnType<typeof startPrometheus>>;

/** Every PromQL expression of every panel of every generated dashboard. */
function dashboardExpressions(): Array<{ dashboard: string; panel: string; expr: string }> {
  const out: Array<{ dashboard: string; panel: string; expr: string }> = [];
  for (const [file, json] of Object.entries(renderDashboards())) {
    for (const panel of JSON.parse(json).panels ?? []) {
      for (const target of panel.targets ?? []) {
        if (target.datasource?.type === 'prometheus') out.push({ dashboard: file, panel: panel.title, expr: target.expr });
      }
    }
  }
  return out;
}

async function recordingRuleNames(): Promise<string[]> {
  const doc = parseYaml(await readFile(path.join(projectRoot(), 'prometheus', 'rules', 'recording.yml'), 'utf8'));
  return doc.groups.flatMap((g: any) => g.rules.map((r: any) => r.record as string));
}

describe('prometheus: a real Prometheus scraping the service proves every dashboard query and recording rule', function () {
  this.timeout(120_000);
  let svc: TestService;
  let prom: Prometheus;
  const sent = new Map<string, number>();
  let executionsExpected = 0;

  before(async function () {
    requireTools(this, TOOLS.prometheus);
    svc = await startTestService({ WORKER_ENABLED: 'true', WORKER_POLL_INTERVAL_MS: '100', ALLOWED_SYMBOLS: 'BTCUSDT,ETHUSDT', DB_TIMEOUT_MS: '300', SIGNAL_WATCH_INTERVAL_MS: '1000',
      // Every run of the watch learns usual intervals (15 minutes apart by default), so the silence panel has data.
      STRATEGY_RHYTHM_REFRESH_MS: '1000' });
    prom = await startPrometheus(new URL(svc.opsUrl).host);
  });
  after(async () => {
    await prom?.stop();
    await svc?.close();
  });

  function count(status: string, code: string) {
    const key = `${status}|${code}`;
    sent.set(key, (sent.get(key) ?? 0) + 1);
  }

  /** One of each kind of answer: accepted (3), duplicate, declined, rejected (2 codes), failed. */
  async function sendRound(round: number) {
    const lagged = () => new Date(Date.now() - 800).toISOString();
    const first = alert({ price: String(1000 + round), time: lagged() });
    for (const body of [first, alert({ ticker: 'BINANCE:ETHUSDT', price: String(2000 + round), time: lagged() }), alert({ price: String(3000 + round), time: lagged() })]) {
      const r = await svc.post(body);
      assert.equal(r.body.status, 'accepted');
      count('success', 'accepted');
      executionsExpected += 1;
    }
    const dup = await svc.post(first);
    assert.equal(dup.body.status, 'duplicate');
    count('success', 'duplicate');
    const declined = await svc.post(alert({ ticker: 'BINANCE:DOGEUSDT', time: lagged() }));
    assert.equal(declined.body.status, 'declined');
    count('success', 'declined');
    const badSecret = await svc.post(alert({ secret: `${TEST_SECRET}-wrong` }));
    assert.equal(badSecret.body.error.code, 'WH_ERR_AUTH_INVALID');
    count('rejected', 'WH_ERR_AUTH_INVALID');
    const malformed = await svc.post('{"ticker": ', { contentType: 'application/json' });
    assert.equal(malformed.body.error.code, 'WH_ERR_MALFORMED_BODY');
    count('rejected', 'WH_ERR_MALFORMED_BODY');
    const locker = new pg.Client({ connectionString: svc.db.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE signals IN ACCESS EXCLUSIVE MODE');
      const failed = await svc.post(alert({ price: String(4000 + round) }));
      assert.equal(failed.status, 503);
      count('failed', 'WH_ERR_UNAVAILABLE');
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
  }

  async function waitForScrapes(n: number) {
    const start = await prom.scrapes();
    await waitFor(async () => (await prom.scrapes()) >= start + n, { timeoutMs: 20_000, what: `${n} more scrapes` });
  }

  it('counts what was sent, answers every panel and recording rule, stores exemplars, and evaluates the alerts', async () => {
    const startSeconds = Date.now() / 1000 - 1;
    await waitForScrapes(1);
    // Two rounds with scrapes between them, so every rate() sees its counters move.
    await sendRound(1);
    await waitForScrapes(2);
    await sendRound(2);

    // The counters equal what was sent, answer by answer.
    let seen = 'nothing';
    await waitFor(async () => {
      const executed = await prom.query('sum by (outcome) (signal_executions_total{job="tv-webhook"})');
      seen = JSON.stringify(executed.map((e) => [e.metric.outcome, e.value[1]]));
      const filled = executed.find((e) => e.metric.outcome === 'filled');
      return filled !== undefined && Number(filled.value[1]) === executionsExpected;
    }, { timeoutMs: 60_000, what: `${executionsExpected} executions in Prometheus` }).catch(async (err) => {
      // `what` is written before the wait; what Prometheus last answered is known only now.
      const { rows } = await svc.pool.query('SELECT status, count(*)::int AS n FROM signals GROUP BY status');
      throw new Error(`${(err as Error).message} (last seen ${seen}); signals by status ${JSON.stringify(rows)}`);
    });
    const totals = await waitFor(async () => {
      const rows = await prom.query('sum by (status, code) (webhook_requests_total{job="tv-webhook"}) > 0');
      const got = new Map(rows.map((r) => [`${r.metric.status}|${r.metric.code}`, Number(r.value[1])]));
      return [...sent].every(([k, v]) => got.get(k) === v) && got.size === sent.size ? got : undefined;
    }, { timeoutMs: 20_000, what: 'request counters equal to what was sent' });
    assert.deepEqual(Object.fromEntries([...totals].sort()), Object.fromEntries([...sent].sort()));
    await waitForScrapes(2);

    // Every PromQL expression in every dashboard panel returns at least one finite value.
    const exprs = dashboardExpressions();
    assert.ok(exprs.length >= 25, `expected the dashboards to hold many PromQL targets, found ${exprs.length}`);
    const empty: string[] = [];
    for (const { dashboard, panel, expr } of exprs) {
      const result = await prom.query(expr.replaceAll('$__rate_interval', '1m'));
      if (!result.some((s) => Number.isFinite(Number(s.value[1])))) empty.push(`${dashboard} / ${panel}: ${expr}`);
    }
    assert.deepEqual(empty, [], 'panels without data');

    // Every recording rule has been evaluated into a series with a finite value.
    const records = await recordingRuleNames();
    assert.ok(records.length >= 15);
    const missing: string[] = [];
    for (const record of records) {
      const result = await prom.query(record);
      if (!result.some((s) => Number.isFinite(Number(s.value[1])))) missing.push(record);
    }
    assert.deepEqual(missing, [], 'recording rules without data');
    const failedRatio = await prom.query('job:webhook_request_failures:ratio_rate5m');
    assert.ok(Number(failedRatio[0]!.value[1]) > 0.05, 'one failure in eight requests shows in the failure ratio');

    // Latency exemplars reach Prometheus with the trace id that links them to Jaeger.
    const exemplars = await prom.exemplars('webhook_processing_duration_seconds_bucket', startSeconds);
    const traceIds = exemplars.flatMap((s) => s.exemplars.map((e) => e.labels.trace_id));
    assert.ok(traceIds.length > 0, 'exemplars stored');
    for (const id of traceIds) assert.match(id ?? '', /^[0-9a-f]{32}$/);

    // The alert rules run on the real series: 1 failure in 8 requests is burning the budget (pending its 2m).
    const alerts = await waitFor(async () => {
      const rows = await prom.query('ALERTS{alertname="WebhookErrorBudgetBurnFast"}');
      return rows.length > 0 ? rows : undefined;
    }, { what: 'WebhookErrorBudgetBurnFast pending' });
    assert.equal(alerts[0]!.metric.alertstate, 'pending');
    assert.deepEqual(await prom.query('ALERTS{alertname="WebhookServiceDown"}'), []);
  });
});
