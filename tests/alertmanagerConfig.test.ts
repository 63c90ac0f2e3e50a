import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CAUSED_BY_SERVICE_DOWN, CHANNELS, PLAIN_SETTINGS, renderAlertmanagerConfig, SECRET_SETTINGS, writeAlertmanagerConfig, type Channel, type Settings } from '../alertmanager/renderConfig.js';
import { projectRoot } from '../src/db/projectRoot.js';
import { runAmtool } from './support/startAlertmanager.js';
import { requireTools, TOOLS } from './support/stackTools.js';

/** The settings that switch each channel on (made-up secrets). */
const CHANNEL_SETTINGS: Record<Channel, Settings> = {
  telegram: { TELEGRAM_BOT_TOKEN: '123456:tg-token-value', TELEGRAM_CHAT_ID: '-1001234567890' },
  discord: { DISCORD_WEBHOOK_URL: 'https://discord.com/api/webhooks/1/discord-url-secret' },
  slack: { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/slack-url-secret', SLACK_CHANNEL: '#trading' },
  email: { ALERT_EMAIL_TO: 'trader@example.com', SMTP_SMARTHOST: 'smtp.example.com:587', SMTP_FROM: 'alerts@example.com', SMTP_USERNAME: 'alerts', SMTP_PASSWORD: 'smtp-password-value' },
  webhook: { ALERT_WEBHOOK_URL: 'https://bot.example.com/alerts', ALERT_WEBHOOK_BEARER_TOKEN: 'webhook-bearer-value' },
};
const INTEGRATION: Record<Channel, string> = { telegram: 'telegram_configs', discord: 'discord_configs', slack: 'slack_configs', email: 'email_configs', webhook: 'webhook_configs' };
const ALL: Settings = Object.assign({}, ...Object.values(CHANNEL_SETTINGS));
const SECRET_VALUES = ['tg-token-value', 'discord-url-secret', 'slack-url-secret', 'smtp-password-value', 'webhook-bearer-value'];

const receivers = (settings: Settings) => Object.fromEntries(parseYaml(renderAlertmanagerConfig(settings).config).receivers.map((r: any) => [r.name, r]));
const integrationsOf = (receiver: any) => Object.keys(receiver).filter((k) => k.endsWith('_configs')).sort();

function renderError(settings: Settings): string {
  try {
    renderAlertmanagerConfig(settings);
  } catch (err) {
    return (err as Error).message;
  }
  assert.fail('rendering should have failed');
}

describe('alertmanager configuration: receivers switched on by settings', () => {
  it('with no settings, both severities go to receivers with no integration (nobody is told, nothing fails)', () => {
    const r = receivers({});
    assert.deepEqual(Object.keys(r).sort(), ['critical', 'warning']);
    assert.deepEqual(integrationsOf(r.critical), []);
    assert.deepEqual(integrationsOf(r.warning), []);
  });

  for (const channel of CHANNELS) {
    it(`${channel}: its settings switch on exactly its integration, for critical and warning alerts`, () => {
      const r = receivers(CHANNEL_SETTINGS[channel]);
      assert.deepEqual(integrationsOf(r.critical), [INTEGRATION[channel]]);
      assert.deepEqual(integrationsOf(r.warning), [INTEGRATION[channel]]);
      assert.equal(r.critical[INTEGRATION[channel]][0].send_resolved, true, 'the trader hears when it is over');
    });
  }

  it('ALERT_WARNING_CHANNELS sends warnings to some channels (or none); critical alerts still go to all', () => {
    const r = receivers({ ...ALL, ALERT_WARNING_CHANNELS: 'email, webhook' });
    assert.deepEqual(integrationsOf(r.critical), Object.values(INTEGRATION).sort());
    assert.deepEqual(integrationsOf(r.warning), ['email_configs', 'webhook_configs']);
    assert.deepEqual(integrationsOf(receivers({ ...ALL, ALERT_WARNING_CHANNELS: 'none' }).warning), []);
    // Compose passes an unset variable as empty: that means every channel, like unset.
    assert.deepEqual(integrationsOf(receivers({ ...ALL, ALERT_WARNING_CHANNELS: '' }).warning), Object.values(INTEGRATION).sort());
  });

  it('reads secrets from *_FILE, trimming the final newline', () => {
    const files: Record<string, string> = { '/run/secrets/tg': '123456:from-file\n' };
    const r = renderAlertmanagerConfig({ TELEGRAM_BOT_TOKEN_FILE: '/run/secrets/tg', TELEGRAM_CHAT_ID: '42' }, (f) => files[f]!);
    const telegram = parseYaml(r.config).receivers[0].telegram_configs[0];
    assert.equal(telegram.bot_token, '123456:from-file');
    assert.equal(telegram.chat_id, 42);
  });

  it('reads secrets from files named after them in ALERT_SECRETS_DIR; a channel whose file is absent stays off', () => {
    const files: Record<string, string> = { '/run/secrets/alerts/telegram_bot_token': '123456:from-dir\n', '/run/secrets/alerts/discord_webhook_url': 'https://discord.com/api/webhooks/1/x\n' };
    const readFile = (f: string) => {
      if (files[f] === undefined) throw Object.assign(new Error('absent'), { code: 'ENOENT' });
      return files[f];
    };
    const r = renderAlertmanagerConfig({ ALERT_SECRETS_DIR: '/run/secrets/alerts', TELEGRAM_CHAT_ID: '42' }, readFile);
    assert.deepEqual(r.channels, ['telegram', 'discord']);
    assert.equal(parseYaml(r.config).receivers[0].telegram_configs[0].bot_token, '123456:from-dir');
    const unreadable = () => {
      throw Object.assign(new Error('denied'), { code: 'EACCES' });
    };
    assert.throws(() => renderAlertmanagerConfig({ ALERT_SECRETS_DIR: '/run/secrets/alerts' }, unreadable), /ALERT_SECRETS_DIR \(TELEGRAM_BOT_TOKEN\): cannot read \/run\/secrets\/alerts\/telegram_bot_token \(EACCES\)/);
  });

  it('names every setting it reads in SECRET_SETTINGS or PLAIN_SETTINGS (the list compose passes through)', async () => {
    const source = await readFile(path.join(projectRoot(), 'alertmanager', 'renderConfig.ts'), 'utf8');
    const read = new Set([...source.matchAll(/settings(?:\.([A-Z][A-Z_]+)|, '([A-Z][A-Z_]+)')/g)].map((m) => m[1] ?? m[2]!));
    const listed: string[] = [...SECRET_SETTINGS, ...PLAIN_SETTINGS];
    assert.deepEqual([...read].filter((n) => !listed.includes(n)), []);
    assert.ok(read.size >= 15, `found ${read.size} settings read`);
  });

  it('a half-made setting fails with a message naming the variable to set, never showing a secret', () => {
    const cases: Array<[Settings, RegExp]> = [
      [{ TELEGRAM_BOT_TOKEN: '123456:tg-token-value' }, /TELEGRAM_CHAT_ID is required with TELEGRAM_BOT_TOKEN/],
      [{ ...CHANNEL_SETTINGS.telegram, TELEGRAM_CHAT_ID: '@mychannel' }, /TELEGRAM_CHAT_ID must be a number/],
      [{ ...CHANNEL_SETTINGS.telegram, TELEGRAM_BOT_TOKEN_FILE: '/x' }, /Set TELEGRAM_BOT_TOKEN or TELEGRAM_BOT_TOKEN_FILE, not both/],
      [{ DISCORD_WEBHOOK_URL: 'discord.com/api/webhooks/1/discord-url-secret' }, /DISCORD_WEBHOOK_URL must be an http\(s\) URL\.$/],
      [{ DISCORD_WEBHOOK_URL_FILE: '/run/secrets/missing' }, /DISCORD_WEBHOOK_URL_FILE: cannot read \/run\/secrets\/missing \(ENOENT\)/],
      [{ ALERT_EMAIL_TO: 'trader@example.com' }, /SMTP_SMARTHOST is required with ALERT_EMAIL_TO/],
      [{ ...CHANNEL_SETTINGS.email, SMTP_USERNAME: undefined }, /Set SMTP_USERNAME and SMTP_PASSWORD \(or SMTP_PASSWORD_FILE\) together/],
      [{ ...CHANNEL_SETTINGS.email, SMTP_SMARTHOST: 'smtp.example.com' }, /SMTP_SMARTHOST must be host:port/],
      [{ ALERT_WEBHOOK_URL: 'https://bot.example.com/alerts?token=webhook-bearer-value' }, /put the secret in ALERT_WEBHOOK_BEARER_TOKEN/],
      [{ ALERT_WEBHOOK_BEARER_TOKEN: 'webhook-bearer-value' }, /ALERT_WEBHOOK_BEARER_TOKEN is set without ALERT_WEBHOOK_URL/],
      [{ ...CHANNEL_SETTINGS.discord, ALERT_WARNING_CHANNELS: 'telegram' }, /ALERT_WARNING_CHANNELS names telegram, which is not switched on/],
      [{ ALERT_WARNING_CHANNELS: 'sms' }, /unknown channel sms/],
      [{ GRAFANA_URL: 'https://grafana.example.com/{{ x }}' }, /GRAFANA_URL must not contain braces/],
      [{ ALERT_GROUP_WAIT_SECONDS: '10s' }, /ALERT_GROUP_WAIT_SECONDS must be a whole number of seconds/],
    ];
    for (const [settings, expected] of cases) {
      const message = renderError(settings);
      assert.match(message, expected);
      for (const secret of SECRET_VALUES) assert.ok(!message.includes(secret), `${message} shows a secret`);
    }
    assert.throws(() => renderAlertmanagerConfig({ SLACK_WEBHOOK_URL_FILE: '/run/secrets/slack' }, () => '\n'), /SLACK_WEBHOOK_URL_FILE: \/run\/secrets\/slack is empty/);
  });

  it('routes by severity with repeat intervals for trading hours, groups by alert name, inhibits what a down service causes', async () => {
    const config = parseYaml(renderAlertmanagerConfig({}).config);
    assert.deepEqual(config.route.group_by, ['alertname']);
    assert.equal(config.route.repeat_interval, '1h', 'critical: every hour until fixed');
    const warning = config.route.routes.find((r: any) => r.receiver === 'warning');
    assert.deepEqual(warning.matchers, ['severity="warning"']);
    assert.equal(warning.repeat_interval, '12h', 'warning: once per trading session');
    // Every inhibited alert exists and is labelled by job, as WebhookServiceDown is (the `equal` label).
    const alerts = parseYaml(await readFile(path.join(projectRoot(), 'prometheus', 'rules', 'alerts.yml'), 'utf8')).groups.flatMap((g: any) => g.rules);
    const names = alerts.map((a: any) => a.alert);
    for (const name of ['WebhookServiceDown', ...CAUSED_BY_SERVICE_DOWN, 'OtelCollectorDown', 'TraceExportFailing']) assert.ok(names.includes(name), name);
    const inhibit = config.inhibit_rules.find((r: any) => r.source_matchers[0] === 'alertname="WebhookServiceDown"');
    assert.deepEqual(inhibit.equal, ['job']);
    for (const name of CAUSED_BY_SERVICE_DOWN) {
      const expr: string = alerts.find((a: any) => a.alert === name).expr;
      assert.doesNotMatch(expr, /without \(job|by \((?![^)]*job)/, `${name} keeps the job label`);
    }
  });
});

describe('alertmanager configuration: every variant passes amtool check-config (Debian\'s, version 0.25)', function () {
  let dir: string;
  before(async function () {
    requireTools(this, TOOLS.amtool);
    dir = await mkdtemp(path.join(tmpdir(), 'tvw-amcfg-'));
  });
  after(async () => dir && rm(dir, { recursive: true, force: true }));

  const variants: Array<[string, Settings]> = [
    ['the shipped default (no channel)', {}],
    ...CHANNELS.map((c): [string, Settings] => [`${c} only`, CHANNEL_SETTINGS[c]]),
    ['every channel, warnings to e-mail and webhook', { ...ALL, ALERT_WARNING_CHANNELS: 'email,webhook', TELEGRAM_API_URL: 'http://127.0.0.1:8081', SMTP_REQUIRE_TLS: 'false' }],
    ['e-mail without authentication (a local relay)', { ...CHANNEL_SETTINGS.email, SMTP_USERNAME: undefined, SMTP_PASSWORD: undefined }],
  ];
  for (const [name, settings] of variants) {
    it(`${name}: amtool accepts it and routes critical and warning alerts to their receivers`, () => {
      const out = path.join(dir, name.replace(/\W+/g, '-'));
      writeAlertmanagerConfig(out, settings);
      const file = path.join(out, 'alertmanager.yml');
      const check = runAmtool(['check-config', file]);
      assert.equal(check.status, 0, check.output);
      assert.match(check.output, /1 templates\n\s*SUCCESS/, 'amtool parsed the message templates and links.tmpl (a syntax error fails here)');
      for (const severity of ['critical', 'warning']) {
        const route = runAmtool(['config', 'routes', 'test', `--config.file=${file}`, `severity=${severity}`, 'alertname=SignalExecutionsFailing']);
        assert.equal(route.output.split('\n')[0], severity, route.output);
      }
    });
  }

  it('the file holding the secrets is readable by its owner only', async () => {
    const out = path.join(dir, 'mode');
    writeAlertmanagerConfig(out, ALL);
    assert.equal((await stat(path.join(out, 'alertmanager.yml'))).mode & 0o777, 0o600);
  });

  it('runs as plain Node.js (as the compose stack runs it): writes the files, or exits 1 naming the setting', async () => {
    const out = path.join(dir, 'cli');
    const tokenFile = path.join(dir, 'token');
    await writeFile(tokenFile, '123456:cli-token\n');
    const env = { PATH: process.env.PATH ?? '', TELEGRAM_BOT_TOKEN_FILE: tokenFile, TELEGRAM_CHAT_ID: '7' };
    const script = path.join(projectRoot(), 'alertmanager', 'renderConfig.ts');
    const ok = spawnSync(process.execPath, [script, out], { env, encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /channels: telegram; warnings to: telegram/);
    assert.doesNotMatch(ok.stdout + ok.stderr, /cli-token/);
    assert.equal(runAmtool(['check-config', path.join(out, 'alertmanager.yml')]).status, 0);
    const bad = spawnSync(process.execPath, [script, out], { env: { ...env, TELEGRAM_CHAT_ID: '' }, encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /alertmanager configuration: TELEGRAM_CHAT_ID is required with TELEGRAM_BOT_TOKEN/);
  });
});
