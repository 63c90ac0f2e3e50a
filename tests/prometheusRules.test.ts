import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { projectRoot } from '../src/db/projectRoot.js';
import { runPromtool } from './support/startPrometheus.js';
import { requireTools, TOOLS } from './support/stackTools.js';

const dir = (...p: string[]) => path.join(projectRoot(), 'prometheus', ...p);
const readYaml = async (...p: string[]) => parseYaml(await readFile(dir(...p), 'utf8'));

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
    const r = runPromtool(['test', 'rules', 'prometheus/tests/alerts.test.yml']);
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /SUCCESS/);
  });

  it('every alert has a severity, a summary, a description, and both a firing and a silent unit test', async () => {
    const alerts = (await readYaml('rules', 'alerts.yml')).groups.flatMap((g: any) => g.rules);
    const tests = (await readYaml('tests', 'alerts.test.yml')).tests.flatMap((t: any) => t.alert_rule_test ?? []);
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
