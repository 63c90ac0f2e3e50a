import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeAlertmanagerConfig, type Settings } from '../../alertmanager/renderConfig.js';
import { projectRoot } from '../../src/db/projectRoot.js';
import { freePort } from './freePort.js';
import { TOOLS } from './stackTools.js';
import { waitFor } from './waitFor.js';

export function runAmtool(args: string[]): { status: number | null; output: string } {
  const r = spawnSync(TOOLS.amtool, args, { cwd: projectRoot(), encoding: 'utf8' });
  if (r.error) throw new Error(`${TOOLS.amtool} could not run (${r.error.message}); .ci/run installs Debian's prometheus-alertmanager package`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

export interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  status: { state: string; inhibitedBy: string[]; silencedBy: string[] };
}

/**
 * A real Alertmanager on a free port and a temporary folder, with the configuration alertmanager/renderConfig.ts
 * writes from `settings` (as the compose stack does), clustering off.
 */
export async function startAlertmanager(settings: Settings) {
  const dir = await mkdtemp(path.join(tmpdir(), 'tvw-am-'));
  const rendered = writeAlertmanagerConfig(path.join(dir, 'config'), settings);
  const port = await freePort();
  let log = '';
  const child = spawn(TOOLS.alertmanager, [
    `--config.file=${path.join(dir, 'config', 'alertmanager.yml')}`,
    `--storage.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    // An empty address turns the gossip cluster off (it would listen on 0.0.0.0:9094 otherwise).
    '--cluster.listen-address=',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (c) => (log += c));
  child.stderr.on('data', (c) => (log += c));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<never>((_, reject) => child.once('error', (err) => reject(new Error(`${TOOLS.alertmanager} could not start (${err.message}); .ci/run installs Debian's prometheus-alertmanager package`))));
  const url = `http://127.0.0.1:${port}`;
  await Promise.race([
    spawnError,
    waitFor(async () => (await fetch(`${url}/-/ready`)).ok, { timeoutMs: 20_000, what: `alertmanager ready (log: ${log.slice(-500)})` }),
  ]);

  return {
    url,
    /** host:port, for Prometheus's alerting configuration. */
    host: `127.0.0.1:${port}`,
    rendered,
    log: () => log,
    /** Alerts as Alertmanager holds them, with their state (active, suppressed) and what inhibits them. */
    async alerts(): Promise<AmAlert[]> {
      const res = await fetch(`${url}/api/v2/alerts`);
      return (await res.json()) as AmAlert[];
    },
    /** Sends alerts the way Prometheus does (POST /api/v2/alerts). */
    async post(alerts: Array<{ labels: Record<string, string>; annotations?: Record<string, string> }>): Promise<void> {
      const res = await fetch(`${url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
      if (!res.ok) throw new Error(`alertmanager POST /api/v2/alerts: ${res.status} ${await res.text()}`);
    },
    async status(): Promise<{ config: { original: string } }> {
      return (await (await fetch(`${url}/api/v2/status`)).json()) as { config: { original: string } };
    },
    async stop(): Promise<void> {
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
