import { chownSync, copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Writes Alertmanager's configuration from settings (environment variables), so that a trader switches a
 * receiver on by setting its variables, never by editing YAML. A receiver is on when its secret is set, either
 * as the value (TELEGRAM_BOT_TOKEN) or as a file (TELEGRAM_BOT_TOKEN_FILE); with none on, both severities go to
 * receivers with no integration (Alertmanager's null receiver: alerts are visible in its UI, nobody is told).
 *
 * Runs as plain Node.js (>= 22.18 strips the types), with no dependency: the compose stack runs it in the Node
 * image before Alertmanager starts (`node renderConfig.ts <folder>`), the tests import renderAlertmanagerConfig.
 *
 * Secrets. Alertmanager 0.25 (Debian 12's, and the pinned image) has no *_file field for Telegram, Discord or the
 * webhook URL, so every secret is written into the generated file, which is mode 0600 and owned by Alertmanager's
 * user (ALERTMANAGER_CONFIG_OWNER), in a volume no other container mounts. Alertmanager shows its configuration
 * at /api/v2/status with secret fields as <secret>; a webhook URL is not one of them, so the webhook's secret is
 * a bearer token (ALERT_WEBHOOK_BEARER_TOKEN), never part of the URL.
 */

export type Settings = Record<string, string | undefined>;
export type Channel = 'telegram' | 'discord' | 'slack' | 'email' | 'webhook';
export const CHANNELS: readonly Channel[] = ['telegram', 'discord', 'slack', 'email', 'webhook'];

/** Alerts that a stopped service causes, which say nothing new while WebhookServiceDown fires for the same job. */
export const CAUSED_BY_SERVICE_DOWN = ['TradingViewAlertsSilent', 'SignalQueueBacklogGrowing', 'SignalQueueOldestJobTooOld'];

export const DEFAULT_LINKS = { grafana: 'http://localhost:3001', jaeger: 'http://localhost:16686', api: 'http://localhost:9300' };

export interface RenderedConfig {
  /** alertmanager.yml */
  config: string;
  /** links.tmpl: the base URLs the message templates put in front of the alerts' link annotations. */
  links: string;
  /** Channels switched on, and which of them receive warnings (critical alerts go to every one). */
  channels: Channel[];
  warningChannels: Channel[];
}

export class SettingsError extends Error {}

/** The secrets, each read from NAME, NAME_FILE, or the file ALERT_SECRETS_DIR/<name in lower case>. */
export const SECRET_SETTINGS = ['TELEGRAM_BOT_TOKEN', 'DISCORD_WEBHOOK_URL', 'SLACK_WEBHOOK_URL', 'SMTP_PASSWORD', 'ALERT_WEBHOOK_BEARER_TOKEN'] as const;
/** Every other setting the generator reads (the compose file passes each one through; a test checks). */
export const PLAIN_SETTINGS = [
  'TELEGRAM_CHAT_ID', 'TELEGRAM_API_URL', 'SLACK_CHANNEL', 'ALERT_EMAIL_TO', 'SMTP_SMARTHOST', 'SMTP_FROM', 'SMTP_USERNAME', 'SMTP_REQUIRE_TLS',
  'ALERT_WEBHOOK_URL', 'ALERT_WARNING_CHANNELS', 'GRAFANA_URL', 'JAEGER_URL', 'API_URL', 'ALERT_GROUP_WAIT_SECONDS', 'ALERT_GROUP_INTERVAL_SECONDS',
  'ALERT_CRITICAL_REPEAT_SECONDS', 'ALERT_WARNING_REPEAT_SECONDS', 'ALERT_SECRETS_DIR',
] as const;

/**
 * Reads a secret from NAME or NAME_FILE (not both), else from ALERT_SECRETS_DIR/<name> if that file exists;
 * undefined when none is set. Never echoes the value.
 */
function secret(settings: Settings, name: string, readFile: (file: string) => string): string | undefined {
  const value = nonEmpty(settings[name]);
  let file = nonEmpty(settings[`${name}_FILE`]);
  if (value !== undefined && file !== undefined) throw new SettingsError(`Set ${name} or ${name}_FILE, not both.`);
  const dir = nonEmpty(settings.ALERT_SECRETS_DIR);
  if (value === undefined && file === undefined && dir !== undefined) {
    const inDir = path.join(dir, name.toLowerCase());
    // A missing file in the folder means "this channel is off"; any other failure is reported below.
    try {
      readFile(inDir);
      file = inDir;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') file = inDir;
    }
  }
  if (file === undefined) return value;
  const source = nonEmpty(settings[`${name}_FILE`]) !== undefined ? `${name}_FILE` : `ALERT_SECRETS_DIR (${name})`;
  let text: string;
  try {
    text = readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new SettingsError(`${source}: cannot read ${file} (${code}).`);
  }
  const trimmed = text.trim();
  if (trimmed === '') throw new SettingsError(`${source}: ${file} is empty.`);
  return trimmed;
}

function nonEmpty(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v ? v : undefined;
}

function required(settings: Settings, name: string, because: string): string {
  const v = nonEmpty(settings[name]);
  if (v === undefined) throw new SettingsError(`${name} is required ${because}.`);
  return v;
}

/** An http(s) URL; `secretValue` keeps the value itself out of the message. */
function httpUrl(name: string, value: string, secretValue = false): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new SettingsError(`${name} must be an http(s) URL${secretValue ? '' : ` (got "${value}")`}.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new SettingsError(`${name} must be an http(s) URL, not ${url.protocol}.`);
  return value;
}

/** A base URL for links; it goes into a Go template, so it cannot hold template delimiters. */
function baseUrl(settings: Settings, name: string, fallback: string): string {
  const v = httpUrl(name, nonEmpty(settings[name]) ?? fallback).replace(/\/+$/, '');
  if (/[{}\s"]/.test(v)) throw new SettingsError(`${name} must not contain braces, quotes or spaces.`);
  return v;
}

function seconds(settings: Settings, name: string, fallback: number): string {
  const raw = nonEmpty(settings[name]);
  if (raw !== undefined && (!/^\d+$/.test(raw) || Number(raw) < 1)) throw new SettingsError(`${name} must be a whole number of seconds >= 1 (got "${raw}").`);
  const s = raw === undefined ? fallback : Number(raw);
  if (s % 3600 === 0) return `${s / 3600}h`;
  return s % 60 === 0 ? `${s / 60}m` : `${s}s`;
}

function bool(settings: Settings, name: string, fallback: boolean): boolean {
  const raw = nonEmpty(settings[name]);
  if (raw === undefined) return fallback;
  if (raw !== 'true' && raw !== 'false') throw new SettingsError(`${name} must be true or false (got "${raw}").`);
  return raw === 'true';
}

/** Each channel's Alertmanager integration, or undefined when its secret is not set. */
function integrations(settings: Settings, readFile: (file: string) => string): Partial<Record<Channel, { key: string; config: object }>> {
  const out: Partial<Record<Channel, { key: string; config: object }>> = {};
  const text = '{{ template "tvw.text" . }}';
  const title = '{{ template "tvw.title" . }}';

  const botToken = secret(settings, 'TELEGRAM_BOT_TOKEN', readFile);
  if (botToken !== undefined) {
    const chat = required(settings, 'TELEGRAM_CHAT_ID', 'with TELEGRAM_BOT_TOKEN (the chat, group or channel id the bot writes to)');
    if (!/^-?\d{1,20}$/.test(chat) || !Number.isSafeInteger(Number(chat))) throw new SettingsError(`TELEGRAM_CHAT_ID must be a number such as 123456789 or -1001234567890 (got "${chat}").`);
    const apiUrl = nonEmpty(settings.TELEGRAM_API_URL);
    out.telegram = {
      key: 'telegram_configs',
      config: {
        ...(apiUrl ? { api_url: httpUrl('TELEGRAM_API_URL', apiUrl) } : {}),
        bot_token: botToken,
        chat_id: Number(chat),
        // Plain text: HTML or Markdown would make Telegram refuse a description holding < or _ characters.
        parse_mode: '',
        message: text,
        send_resolved: true,
      },
    };
  }

  const discord = secret(settings, 'DISCORD_WEBHOOK_URL', readFile);
  if (discord !== undefined) {
    out.discord = { key: 'discord_configs', config: { webhook_url: httpUrl('DISCORD_WEBHOOK_URL', discord, true), title, message: text, send_resolved: true } };
  }

  const slack = secret(settings, 'SLACK_WEBHOOK_URL', readFile);
  if (slack !== undefined) {
    const channel = nonEmpty(settings.SLACK_CHANNEL);
    out.slack = {
      key: 'slack_configs',
      config: { api_url: httpUrl('SLACK_WEBHOOK_URL', slack, true), ...(channel ? { channel } : {}), title, text, send_resolved: true },
    };
  }

  const emailTo = nonEmpty(settings.ALERT_EMAIL_TO);
  if (emailTo !== undefined) {
    const because = 'with ALERT_EMAIL_TO';
    const smarthost = required(settings, 'SMTP_SMARTHOST', `${because} (the mail server as host:port, e.g. smtp.gmail.com:587)`);
    if (!/^[^\s:]+:\d+$/.test(smarthost)) throw new SettingsError(`SMTP_SMARTHOST must be host:port, e.g. smtp.gmail.com:587 (got "${smarthost}").`);
    const username = nonEmpty(settings.SMTP_USERNAME);
    const password = secret(settings, 'SMTP_PASSWORD', readFile);
    if ((username === undefined) !== (password === undefined)) throw new SettingsError('Set SMTP_USERNAME and SMTP_PASSWORD (or SMTP_PASSWORD_FILE) together, or neither.');
    out.email = {
      key: 'email_configs',
      config: {
        to: emailTo,
        from: required(settings, 'SMTP_FROM', `${because} (the sender address)`),
        smarthost,
        ...(username !== undefined ? { auth_username: username, auth_password: password } : {}),
        require_tls: bool(settings, 'SMTP_REQUIRE_TLS', true),
        headers: { Subject: title },
        // Text only: the same message as the chat channels, links included.
        html: '',
        text,
        send_resolved: true,
      },
    };
  }

  const webhookUrl = nonEmpty(settings.ALERT_WEBHOOK_URL);
  const bearer = secret(settings, 'ALERT_WEBHOOK_BEARER_TOKEN', readFile);
  if (webhookUrl === undefined && bearer !== undefined) throw new SettingsError('ALERT_WEBHOOK_BEARER_TOKEN is set without ALERT_WEBHOOK_URL.');
  if (webhookUrl !== undefined) {
    const url = new URL(httpUrl('ALERT_WEBHOOK_URL', webhookUrl));
    if (url.username || url.password || url.search) throw new SettingsError('ALERT_WEBHOOK_URL must not carry credentials or a query (Alertmanager shows the URL on its status page): put the secret in ALERT_WEBHOOK_BEARER_TOKEN.');
    out.webhook = {
      key: 'webhook_configs',
      config: {
        url: webhookUrl,
        send_resolved: true,
        ...(bearer !== undefined ? { http_config: { authorization: { type: 'Bearer', credentials: bearer } } } : {}),
      },
    };
  }
  return out;
}

function warningChannels(settings: Settings, on: Channel[]): Channel[] {
  // Unset or empty (compose passes unset variables as empty): every channel; `none`: no channel.
  const raw = nonEmpty(settings.ALERT_WARNING_CHANNELS);
  if (raw === undefined) return on;
  if (raw === 'none') return [];
  const listed = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = listed.filter((c) => !CHANNELS.includes(c as Channel));
  if (unknown.length) throw new SettingsError(`ALERT_WARNING_CHANNELS: unknown channel ${unknown.join(', ')} (use ${CHANNELS.join(', ')}, or none).`);
  const off = listed.filter((c) => !on.includes(c as Channel));
  if (off.length) throw new SettingsError(`ALERT_WARNING_CHANNELS names ${off.join(', ')}, which is not switched on.`);
  return listed as Channel[];
}

function receiver(name: string, channels: Channel[], all: Partial<Record<Channel, { key: string; config: object }>>): object {
  const r: Record<string, unknown> = { name };
  for (const c of channels) r[all[c]!.key] = [all[c]!.config];
  return r;
}

export function renderAlertmanagerConfig(settings: Settings, readFile: (file: string) => string = (f) => readFileSync(f, 'utf8')): RenderedConfig {
  const all = integrations(settings, readFile);
  const channels = CHANNELS.filter((c) => all[c] !== undefined);
  const warnings = warningChannels(settings, channels);
  const groupWait = seconds(settings, 'ALERT_GROUP_WAIT_SECONDS', 10);
  const groupInterval = seconds(settings, 'ALERT_GROUP_INTERVAL_SECONDS', 300);
  const config = {
    global: { resolve_timeout: '5m' },
    // Relative to this file: the generator copies the message templates next to it.
    templates: ['*.tmpl'],
    route: {
      receiver: 'critical',
      // One message per alert name: the rules already aggregate to one series per job (or executor).
      group_by: ['alertname'],
      group_wait: groupWait,
      group_interval: groupInterval,
      repeat_interval: seconds(settings, 'ALERT_CRITICAL_REPEAT_SECONDS', 3600),
      routes: [
        // Critical (a trade lost or at risk now): every channel, repeated hourly until fixed, since markets move.
        { matchers: ['severity="critical"'], receiver: 'critical' },
        // Warning (degraded, nothing lost yet): the channels chosen for it, repeated twice a day, i.e. once
        // per trading session rather than all night.
        { matchers: ['severity="warning"'], receiver: 'warning', repeat_interval: seconds(settings, 'ALERT_WARNING_REPEAT_SECONDS', 43200) },
      ],
    },
    inhibit_rules: [
      // A service that is down stops signals and leaves the queue unserved: one page says so, not four.
      {
        source_matchers: ['alertname="WebhookServiceDown"'],
        target_matchers: [`alertname=~"${CAUSED_BY_SERVICE_DOWN.join('|')}"`],
        equal: ['job'],
      },
      // Without a collector, spans cannot be exported: the collector alert says why.
      { source_matchers: ['alertname="OtelCollectorDown"'], target_matchers: ['alertname="TraceExportFailing"'] },
    ],
    receivers: [receiver('critical', channels, all), receiver('warning', warnings, all)],
  };
  const grafana = baseUrl(settings, 'GRAFANA_URL', DEFAULT_LINKS.grafana);
  const jaeger = baseUrl(settings, 'JAEGER_URL', DEFAULT_LINKS.jaeger);
  const api = baseUrl(settings, 'API_URL', DEFAULT_LINKS.api);
  const links = [
    '{{/* Written by alertmanager/renderConfig.ts from GRAFANA_URL, JAEGER_URL and API_URL. */}}',
    `{{ define "tvw.grafana_url" }}${grafana}{{ end }}`,
    `{{ define "tvw.jaeger_url" }}${jaeger}{{ end }}`,
    `{{ define "tvw.api_url" }}${api}{{ end }}`,
    '',
  ].join('\n');
  const header = `# Generated by alertmanager/renderConfig.ts from environment settings; do not edit (see notes/README).\n# Channels: ${channels.join(', ') || 'none'}; warnings to: ${warnings.join(', ') || 'none'}.\n`;
  return { config: header + toYaml(config), links, channels, warningChannels: warnings };
}

/** Block-style YAML; every string double-quoted (JSON's escapes are a subset of YAML's), so no value is misread. */
export function toYaml(value: unknown, indent = ''): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]\n';
    return value.map((v) => `${indent}- ${isBlock(v) ? toYaml(v, `${indent}  `).trimStart() : scalar(v)}${isBlock(v) ? '' : '\n'}`).join('');
  }
  if (isBlock(value)) {
    return Object.entries(value as object)
      .map(([k, v]) => {
        if (isBlock(v) && !(Array.isArray(v) && v.length === 0)) return `${indent}${k}:\n${toYaml(v, `${indent}  `)}`;
        return `${indent}${k}: ${Array.isArray(v) ? '[]' : scalar(v)}\n`;
      })
      .join('');
  }
  return `${scalar(value)}\n`;
}

function isBlock(v: unknown): boolean {
  return typeof v === 'object' && v !== null;
}

function scalar(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(String(v));
}

export const TEMPLATES_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'templates');

/**
 * Writes alertmanager.yml (mode 0600: it holds the secrets), links.tmpl and the message templates into `dir`,
 * each through a temporary file and a rename, so Alertmanager never reads half a file.
 */
export function writeAlertmanagerConfig(dir: string, settings: Settings, owner?: { uid: number; gid: number }): RenderedConfig {
  const rendered = renderAlertmanagerConfig(settings);
  mkdirSync(dir, { recursive: true });
  const put = (name: string, write: (tmp: string) => void) => {
    const tmp = path.join(dir, `.${name}.tmp`);
    write(tmp);
    if (owner) chownSync(tmp, owner.uid, owner.gid);
    renameSync(tmp, path.join(dir, name));
  };
  put('alertmanager.yml', (tmp) => writeFileSync(tmp, rendered.config, { mode: 0o600 }));
  put('links.tmpl', (tmp) => writeFileSync(tmp, rendered.links, { mode: 0o644 }));
  for (const name of readdirSync(TEMPLATES_DIR).filter((n) => n.endsWith('.tmpl'))) {
    put(name, (tmp) => copyFileSync(path.join(TEMPLATES_DIR, name), tmp));
  }
  return rendered;
}

function parseOwner(raw: string | undefined): { uid: number; gid: number } | undefined {
  if (!raw) return undefined;
  const m = /^(\d+):(\d+)$/.exec(raw);
  if (!m) throw new SettingsError(`ALERTMANAGER_CONFIG_OWNER must be uid:gid, e.g. 65534:65534 (got "${raw}").`);
  return { uid: Number(m[1]), gid: Number(m[2]) };
}

// `node alertmanager/renderConfig.ts <folder>`: exits 1 with a message naming the setting to fix.
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const dir = process.argv[2];
  try {
    if (!dir) throw new SettingsError('usage: node alertmanager/renderConfig.ts <output folder>');
    const r = writeAlertmanagerConfig(dir, process.env, parseOwner(process.env.ALERTMANAGER_CONFIG_OWNER));
    console.log(`alertmanager: wrote ${path.join(dir, 'alertmanager.yml')}; channels: ${r.channels.join(', ') || 'none (set TELEGRAM_BOT_TOKEN, DISCORD_WEBHOOK_URL, ... to be told)'}; warnings to: ${r.warningChannels.join(', ') || 'none'}`);
  } catch (err) {
    console.error(`alertmanager configuration: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
