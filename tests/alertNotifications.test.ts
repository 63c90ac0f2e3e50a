import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startAlertmanager } from './support/startAlertmanager.js';
import { startPrometheus } from './support/startPrometheus.js';
import { requireTools, TOOLS } from './support/stackTools.js';
import { alert, startTestService, type TestService } from './support/startTestService.js';
import { startTargetServer, type ReceivedCall } from './support/startTargetServer.js';
import { waitFor } from './support/waitFor.js';

type Target = Awaited<ReturnType<typeof startTargetServer>>;

const BOT_TOKEN = '123456:telegram-bot-token-for-tests';
const CHAT_ID = '-1001234567890';
const HOOK_BEARER = 'alert-webhook-bearer-token-for-tests';
const GRAFANA_URL = 'https://grafana.example.test';
const JAEGER_URL = 'https://jaeger.example.test';
/** Telegram's answer to sendMessage; Alertmanager's client decodes it. */
const TELEGRAM_OK = JSON.stringify({ ok: true, result: { message_id: 1, date: 0, chat: { id: Number(CHAT_ID), type: 'supergroup' } } });

/** A call's body as JSON, or as a form (the Telegram client may send either). */
function parsed(call: ReceivedCall): any {
  try {
    return JSON.parse(call.body);
  } catch {
    return Object.fromEntries(new URLSearchParams(call.body));
  }
}

function firingNamed(target: Target, alertname: string): Promise<ReceivedCall> {
  return waitFor(async () => target.calls.find((c) => c.body.includes(alertname) && c.body.toLowerCase().includes('firing')), { timeoutMs: 60_000, what: `a notification of ${alertname}` });
}

/**
 * The notification path with the real programs, on loopback: the service executes a signal against a target
 * that always answers 500; Prometheus (Debian's) scrapes it and evaluates the shipped rules every second; the
 * SignalExecutionsFailing rule has no `for:` (one failed trade is worth telling at once), so the shipped rule fires
 * on the first evaluation that sees the failure; Alertmanager (Debian's), configured by alertmanager/renderConfig.ts
 * with group_wait 1 s, notifies a webhook, Telegram, Discord and Slack, each a local HTTP server standing in for it.
 */
describe('alert notifications: a failed trade reaches the trader through Prometheus and Alertmanager', function () {
  this.timeout(120_000);
  let dir: string;
  let broker: Target, hook: Target, telegram: Target, discord: Target, slack: Target;
  let svc: TestService;
  let am: Awaited<ReturnType<typeof startAlertmanager>>;
  let prom: Awaited<ReturnType<typeof startPrometheus>>;
  let discordUrl: string, slackUrl: string;

  before(async function () {
    requireTools(this, TOOLS.prometheus, TOOLS.alertmanager);
    dir = await mkdtemp(path.join(tmpdir(), 'tvw-alerts-'));
    broker = await startTargetServer([{ status: 500, body: '{"error":"broker down"}' }]);
    hook = await startTargetServer([{ status: 200 }]);
    telegram = await startTargetServer([{ status: 200, body: TELEGRAM_OK }]);
    discord = await startTargetServer([{ status: 204, body: '' }]);
    slack = await startTargetServer([{ status: 200, body: 'ok' }]);
    svc = await startTestService({
      WORKER_ENABLED: 'true',
      WORKER_POLL_INTERVAL_MS: '100',
      EXECUTOR: 'forward',
      FORWARD_URL: broker.url,
      FORWARD_TIMEOUT_MS: '1000',
      // One attempt: the 500 exhausts it at once, so no backoff to wait out.
      EXECUTION_MAX_ATTEMPTS: '1',
      ADMIN_API_ON_OPS: 'true',
    });
    // Secrets as files, the way an operator mounts them; the URLs' last segment is the secret part.
    discordUrl = `${discord.url.replace(/\/orders$/, '')}/api/webhooks/42/discord-secret-part`;
    slackUrl = `${slack.url.replace(/\/orders$/, '')}/services/T0/B0/slack-secret-part`;
    const file = async (name: string, content: string) => {
      const p = path.join(dir, name);
      await writeFile(p, `${content}\n`, { mode: 0o600 });
      return p;
    };
    am = await startAlertmanager({
      TELEGRAM_BOT_TOKEN_FILE: await file('telegram_bot_token', BOT_TOKEN),
      TELEGRAM_CHAT_ID: CHAT_ID,
      TELEGRAM_API_URL: telegram.url.replace(/\/orders$/, ''),
      DISCORD_WEBHOOK_URL_FILE: await file('discord_webhook_url', discordUrl),
      SLACK_WEBHOOK_URL_FILE: await file('slack_webhook_url', slackUrl),
      ALERT_WEBHOOK_URL: hook.url,
      ALERT_WEBHOOK_BEARER_TOKEN_FILE: await file('alert_webhook_bearer_token', HOOK_BEARER),
      GRAFANA_URL,
      JAEGER_URL,
      API_URL: svc.opsUrl,
      ALERT_GROUP_WAIT_SECONDS: '1',
      ALERT_GROUP_INTERVAL_SECONDS: '1',
    });
    prom = await startPrometheus(new URL(svc.opsUrl).host, { alertmanager: am.host });
  });

  after(async () => {
    await prom?.stop();
    await am?.stop();
    await svc?.close();
    for (const t of [broker, hook, telegram, discord, slack]) await t?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  let failedAt = 0;
  let webhookCall: ReceivedCall;

  it('a signal whose broker answers 500 until the attempts run out reaches the webhook as SignalExecutionsFailing, with labels, annotations and links', async () => {
    // The failure must come after a scrape that saw the failed-executions counter at 0: increase() needs both.
    await waitFor(async () => (await prom.scrapes()) >= 2, { what: 'two scrapes of the service' });
    const res = await svc.post(alert({ ticker: 'BINANCE:ETHUSDT', price: '3100', strategy: 'Breakout 15m' }));
    assert.equal(res.body.status, 'accepted', JSON.stringify(res.body));
    await waitFor(async () => (await svc.api(`/api/signals/${res.body.signalId}`)).body.signal.status === 'failed', { what: 'the signal to fail' });
    failedAt = Date.now();
    assert.ok(broker.calls.length >= 1);

    webhookCall = await firingNamed(hook, 'SignalExecutionsFailing');
    console.log(`      (notified ${Date.now() - failedAt} ms after the signal failed)`);
    assert.equal(webhookCall.headers.authorization, `Bearer ${HOOK_BEARER}`);
    const payload = JSON.parse(webhookCall.body);
    assert.equal(payload.receiver, 'critical');
    assert.equal(payload.status, 'firing');
    const a = payload.alerts.find((x: any) => x.labels.alertname === 'SignalExecutionsFailing');
    assert.deepEqual(
      { alertname: a.labels.alertname, severity: a.labels.severity, executor: a.labels.executor, job: a.labels.job },
      { alertname: 'SignalExecutionsFailing', severity: 'critical', executor: 'forward', job: 'tv-webhook' },
    );
    assert.equal(a.annotations.summary, 'Signals failed to execute');
    assert.match(a.annotations.description, /^1 signal\(s\) exhausted their execution attempts on the forward executor/);
    assert.equal(a.annotations.dashboard, '/d/tv-webhook-overview?viewPanel=18');
    assert.match(a.annotations.jaeger, /^\/search\?service=tv-webhook&/);
    assert.equal(a.annotations.api, '/api/signals?status=failed');
  });

  it('the api link, followed with the admin token, shows the failed signal: its ticker, strategy and the broker\'s answer', async () => {
    const payload = JSON.parse(webhookCall.body);
    const link = payload.alerts[0].annotations.api;
    const r = await svc.api(link);
    assert.equal(r.status, 200);
    const signal = r.body.signals.find((s: any) => s.ticker === 'ETHUSDT');
    assert.equal(signal.status, 'failed');
    assert.equal(signal.strategy, 'Breakout 15m');
    assert.match(signal.lastError, /answered 500/);
  });

  it('Telegram, Discord and Slack get a readable message: summary, what to check first, and absolute links', async () => {
    const expectLines = (text: string) => {
      assert.match(text, /FIRING SignalExecutionsFailing \(critical\): Signals failed to execute/);
      assert.match(text, /Executor: forward/);
      assert.match(text, /What to check first: 1 signal\(s\) exhausted their execution attempts/);
      assert.ok(text.includes(`Grafana: ${GRAFANA_URL}/d/tv-webhook-overview?viewPanel=18`), text);
      assert.ok(text.includes(`Traces: ${JAEGER_URL}/search?service=tv-webhook&`), text);
      assert.ok(text.includes(`API: ${svc.opsUrl}/api/signals?status=failed`), text);
    };
    const tg = await firingNamed(telegram, 'SignalExecutionsFailing');
    assert.equal(tg.url, `/bot${BOT_TOKEN}/sendMessage`);
    const tgBody = parsed(tg);
    assert.equal(String(tgBody.chat_id), CHAT_ID);
    expectLines(tgBody.text);

    const dc = await firingNamed(discord, 'SignalExecutionsFailing');
    assert.equal(dc.url, new URL(discordUrl).pathname);
    const embed = parsed(dc).embeds[0];
    assert.equal(embed.title, '[FIRING] SignalExecutionsFailing (critical)');
    expectLines(embed.description);

    const sl = await firingNamed(slack, 'SignalExecutionsFailing');
    assert.equal(sl.url, new URL(slackUrl).pathname);
    const attachment = parsed(sl).attachments[0];
    assert.equal(attachment.title, '[FIRING] SignalExecutionsFailing (critical)');
    expectLines(attachment.text);
  });

  it('no secret shows on Alertmanager\'s status page (its configuration, as served at /api/v2/status)', async () => {
    const shown = (await am.status()).config.original;
    assert.match(shown, /<secret>/);
    for (const secret of [BOT_TOKEN, 'discord-secret-part', 'slack-secret-part', HOOK_BEARER]) assert.ok(!shown.includes(secret), `status page shows ${secret}`);
  });

  it('a custom alert\'s strategy and ticker labels reach the message (warnings go to every channel unless told otherwise)', async () => {
    await am.post([{
      labels: { alertname: 'StrategyDrawdown', severity: 'warning', job: 'tv-webhook', strategy: 'Breakout 15m', ticker: 'BINANCE:ETHUSDT' },
      annotations: { summary: 'Drawdown above 5%', description: 'Pause the strategy in TradingView.' },
    }]);
    const tg = await firingNamed(telegram, 'StrategyDrawdown');
    const text = parsed(tg).text;
    assert.match(text, /FIRING StrategyDrawdown \(warning\): Drawdown above 5%\nStrategy: Breakout 15m\nTicker: BINANCE:ETHUSDT\n/);
    assert.match(text, /What to check first: Pause the strategy in TradingView\./);
    assert.doesNotMatch(text, /Grafana:|API:/, 'no link lines for annotations the alert lacks');
    assert.equal(JSON.parse((await firingNamed(hook, 'StrategyDrawdown')).body).receiver, 'warning');
  });

  it('WebhookServiceDown silences the alerts a stopped service causes, for the same job only', async () => {
    await am.post([
      { labels: { alertname: 'WebhookServiceDown', severity: 'critical', job: 'tv-webhook' } },
      { labels: { alertname: 'TradingViewAlertsSilent', severity: 'critical', job: 'tv-webhook' } },
      { labels: { alertname: 'SignalQueueOldestJobTooOld', severity: 'critical', job: 'tv-webhook' } },
      { labels: { alertname: 'TradingViewAlertsSilent', severity: 'critical', job: 'tv-webhook-staging' } },
    ]);
    const state = await waitFor(async () => {
      const alerts = await am.alerts();
      const of = (name: string, job: string) => alerts.find((x) => x.labels.alertname === name && x.labels.job === job);
      const all = [of('WebhookServiceDown', 'tv-webhook'), of('TradingViewAlertsSilent', 'tv-webhook'), of('SignalQueueOldestJobTooOld', 'tv-webhook'), of('TradingViewAlertsSilent', 'tv-webhook-staging')];
      return all.every(Boolean) ? all.map((x) => ({ state: x!.status.state, inhibited: x!.status.inhibitedBy.length > 0 })) : undefined;
    }, { what: 'the four alerts in Alertmanager' });
    assert.deepEqual(state, [
      { state: 'active', inhibited: false },
      { state: 'suppressed', inhibited: true },
      { state: 'suppressed', inhibited: true },
      { state: 'active', inhibited: false },
    ]);
  });
});
