import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { projectRoot } from '../src/db/projectRoot.js';
import { renderDashboards } from '../grafana/src/writeDashboards.js';
import { runPromtool } from './support/startPrometheus.js';
import { requireTools, TOOLS } from './support/stackTools.js';
import { startTestService, type TestService } from './support/startTestService.js';

const dir = (...p: string[]) => path.join(projectRoot(), 'prometheus', ...p);
const readYaml = async (...p: string[]) => parseYaml(await readFile(dir(...p), 'utf8'));
/** The promtool test files: alerts.test.yml, and those of later issues (missed.test.yml, anomalies.test.yml). */
const TEST_FILES = readdirSync(dir('tests')).filter((f) => f.endsWith('.test.yml')).sort();

describe('prometheus rules: promtool checks and unit tests', function () {
  before(function () {
    requireTools(this, TOOLS.promtool);
  });

  it('promtool check config accepts prometheus.yml and the rule files it loads', () => {
    const r = runPromtool(['check', 'config', 'prometheus/prometheus.yml']);
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /SUCCESS: 2 rule files found/);
  });

  it('promtool check rules accepts every rule file', () => {
    const r = runPromtool(['check', 'rules', 'prometheus/rules/recording.yml', 'prometheus/rules/alerts.yml']);
    assert.equal(r.status, 0, r.output);
  });

  it('promtool test rules passes: every alert fires when it should and stays silent when it should not', () => {
    const r = runPromtool(['test', 'rules', ...TEST_FILES.map((f) => `prometheus/tests/${f}`)]);
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /SUCCESS/);
  });

  it('every alert has a severity, a summary, a description, and both a firing and a silent unit test', async () => {
    const alerts = (await readYaml('rules', 'alerts.yml')).groups.flatMap((g: any) => g.rules);
    const tests = (await Promise.all(TEST_FILES.map((f) => readYaml('tests', f)))).flatMap((doc) => doc.tests.flatMap((t: any) => t.alert_rule_test ?? []));
    for (const a of alerts) {
      assert.ok(['critical', 'warning'].includes(a.labels?.severity), `${a.alert}: severity`);
      assert.ok(a.annotations?.summary, `${a.alert}: summary`);
      assert.ok((a.annotations?.description ?? '').length > 40, `${a.alert}: a description that says what to do`);
      const cases = tests.filter((t: any) => t.alertname === a.alert);
      assert.ok(cases.some((t: any) => t.exp_alerts?.length > 0), `${a.alert}: a test where it fires`);
      assert.ok(cases.some((t: any) => t.exp_alerts?.length === 0), `${a.alert}: a test where it stays silent`);
    }
    const required = ['WebhookServiceDown', 'WebhookErrorBudgetBurnFast', 'WebhookErrorBudgetBurnSlow', 'WebhookLatencyP99High', 'WebhookRejectionsSpiking',
      'TradingViewAlertsSilent', 'SignalQueueBacklogGrowing', 'SignalQueueOldestJobTooOld', 'SignalExecutionsFailing', 'MonitoringSinkDroppingRecords', 'TradingViewDeliveryLagHigh'];
    assert.deepEqual(required.filter((n) => !alerts.some((a: any) => a.alert === n)), []);
  });
});

/**
 * The panel each alert's `dashboard` link must open, by title: panel ids are positions, so a panel inserted
 * above would silently point the link at another panel; this catches it.
 */
const LINKED_PANEL: Record<string, string> = {
  WebhookServiceDown: 'Requests / s',
  WebhookErrorBudgetBurnFast: 'Latest failures and rejections',
  WebhookErrorBudgetBurnSlow: 'Latest failures and rejections',
  WebhookLatencyP99High: 'Latency per stage',
  WebhookRejectionsSpiking: 'Rejections by code',
  TradingViewAlertsSilent: 'Since last signal',
  SignalQueueBacklogGrowing: 'Queue',
  SignalQueueOldestJobTooOld: 'Queue',
  SignalExecutionsFailing: 'Executions by outcome',
  SignalExecutionsUnrecorded: 'Executions by outcome',
  SignalWorkerRestarting: 'Executions by outcome',
  SignalsStuck: 'Queue',
  SignalWatchFailing: 'Instrumentation errors',
  MonitoringRetentionFailing: 'Instrumentation errors',
  MonitoringSinkDroppingRecords: 'Sink records by outcome',
  TradingViewDeliveryLagHigh: 'TradingView delivery lag',
  TraceExportFailing: 'Instrumentation errors',
  OtelCollectorDown: 'Failed and slow traces (Jaeger)',
  TradingViewAlertsMissed: 'Missed alerts (position gaps)',
  TradingViewStrategySilent: 'Silence per strategy',
  WebhookRequestRateAnomalous: 'Anomaly scores',
  WebhookRejectionRatioAnomalous: 'Anomaly scores',
  WebhookLatencyAnomalous: 'Anomaly scores',
};

describe('prometheus rules: the link annotations open what the notification promises', function () {
  let alerts: any[];
  before(async () => {
    alerts = (await readYaml('rules', 'alerts.yml')).groups.flatMap((g: any) => g.rules);
  });

  it('every alert links to a Grafana panel of a provisioned dashboard, the one that shows its data', () => {
    const dashboards = Object.values(renderDashboards()).map((json) => JSON.parse(json));
    for (const a of alerts) {
      const link = /^\/d\/([\w-]+)\?viewPanel=(\d+)$/.exec(a.annotations?.dashboard ?? '');
      assert.ok(link, `${a.alert}: dashboard annotation /d/<uid>?viewPanel=<id>, got ${a.annotations?.dashboard}`);
      const dashboard = dashboards.find((d) => d.uid === link[1]);
      assert.ok(dashboard, `${a.alert}: no dashboard ${link[1]}`);
      const panel = dashboard.panels.find((p: any) => p.id === Number(link[2]));
      assert.equal(panel?.title, LINKED_PANEL[a.alert], `${a.alert}: panel ${link[2]} of ${link[1]}`);
    }
  });

  it('Jaeger links search the service name the stack exports spans under', async () => {
    const compose = parseYaml(await readFile(path.join(projectRoot(), 'docker-compose.yml'), 'utf8'));
    const service = compose.services.app.environment.OTEL_SERVICE_NAME;
    const withJaeger = alerts.filter((a) => a.annotations?.jaeger);
    assert.ok(withJaeger.some((a) => a.alert === 'SignalExecutionsFailing'));
    for (const a of withJaeger) {
      const url = new URL(a.annotations.jaeger, 'http://jaeger');
      assert.equal(url.pathname, '/search', a.alert);
      assert.equal(url.searchParams.get('service'), service, a.alert);
      const tags = url.searchParams.get('tags');
      if (tags) assert.doesNotThrow(() => JSON.parse(tags), `${a.alert}: tags is JSON`);
    }
  });

  describe('API links, fetched from a running service with the admin token', () => {
    let svc: TestService;
    before(async () => {
      svc = await startTestService({ ADMIN_API_ON_OPS: 'true' });
    });
    after(async () => svc?.close());

    it('every api annotation is a route of the operations listener that answers 200 (query parameters accepted)', async () => {
      const withApi = alerts.filter((a) => a.annotations?.api);
      assert.ok(withApi.length >= alerts.length - 1, 'nearly every alert names an API route to look at');
      for (const a of withApi) {
        const r = await svc.api(a.annotations.api);
        assert.equal(r.status, 200, `${a.alert}: GET ${a.annotations.api} -> ${r.status} ${JSON.stringify(r.body)}`);
      }
    });
  });
});
