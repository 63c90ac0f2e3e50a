import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { projectRoot } from '../../src/db/projectRoot.js';
import { freePort } from './freePort.js';
import { TOOLS } from './stackTools.js';
import { waitFor } from './waitFor.js';

const PROMETHEUS_BIN = TOOLS.prometheus;
const PROMTOOL_BIN = TOOLS.promtool;

export function runPromtool(args: string[]): { status: number | null; output: string } {
  const r = spawnSync(PROMTOOL_BIN, args, { cwd: projectRoot(), encoding: 'utf8' });
  if (r.error) throw new Error(`${PROMTOOL_BIN} could not run (${r.error.message}); .ci/run installs Debian's prometheus package`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/**
 * A real Prometheus on a free port and a temporary folder, scraping `target` (host:port) as job tv-webhook
 * every second and evaluating the repository's rule files every second; with `alertmanager` (host:port), it
 * sends firing alerts there, as prometheus/prometheus.yml does in the compose stack.
 */
export async function startPrometheus(target: string, options: { alertmanager?: string } = {}) {
  const rulesDir = path.join(projectRoot(), 'prometheus', 'rules');
  const alerting = options.alertmanager
    ? ['alerting:', '  alertmanagers:', '    - static_configs:', `        - targets: ['${options.alertmanager}']`]
    : [];
  return launchPrometheus(() => [
    'global:',
    '  scrape_interval: 1s',
    '  evaluation_interval: 1s',
    'rule_files:',
    `  - ${path.join(rulesDir, '*.yml')}`,
    ...alerting,
    'scrape_configs:',
    '  - job_name: tv-webhook',
    '    static_configs:',
    `      - targets: ['${target}']`,
    '',
  ].join('\n'));
}

/**
 * A real Prometheus running the shipped prometheus/prometheus.yml with its rules, changed only where a test
 * must: each job's targets (compose's host names) become `targets[job]` (the prometheus job scrapes this
 * Prometheus), the rule files' path is made absolute, and scrapes and rule evaluations run every second.
 */
export async function startShippedPrometheus(targets: Record<string, string>) {
  const shipped = parseYaml(await readFile(path.join(projectRoot(), 'prometheus', 'prometheus.yml'), 'utf8'));
  return launchPrometheus((port) => {
    const config = structuredClone(shipped);
    config.global = { ...config.global, scrape_interval: '1s', evaluation_interval: '1s' };
    config.rule_files = config.rule_files.map((f: string) => path.join(projectRoot(), 'prometheus', f));
    delete config.alerting; // compose's alertmanager:9093 does not resolve here; tests that need one pass it
    for (const job of config.scrape_configs) {
      const target = job.job_name === 'prometheus' ? `127.0.0.1:${port}` : targets[job.job_name];
      if (!target) throw new Error(`no test target for the shipped job ${job.job_name}`);
      job.static_configs = [{ targets: [target] }];
    }
    return stringifyYaml(config);
  });
}

async function launchPrometheus(makeConfig: (port: number) => string) {
  const dir = await mkdtemp(path.join(tmpdir(), 'tvw-prom-'));
  const port = await freePort();
  await writeFile(path.join(dir, 'prometheus.yml'), makeConfig(port));
  let log = '';
  const child = spawn(PROMETHEUS_BIN, [
    `--config.file=${path.join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--enable-feature=exemplar-storage',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (c) => (log += c));
  child.stderr.on('data', (c) => (log += c));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<never>((_, reject) => child.once('error', (err) => reject(new Error(`${PROMETHEUS_BIN} could not start (${err.message}); .ci/run installs Debian's prometheus package`))));
  const url = `http://127.0.0.1:${port}`;
  await Promise.race([
    spawnError,
    waitFor(async () => (await fetch(`${url}/-/ready`)).ok, { timeoutMs: 20_000, what: `prometheus ready (log: ${log.slice(-500)})` }),
  ]);

  async function api(pathAndQuery: string): Promise<any> {
    const res = await fetch(`${url}${pathAndQuery}`);
    const body = (await res.json()) as { status: string; data: any; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${pathAndQuery}: ${body.error}`);
    return body.data;
  }

  return {
    url,
    /** An instant query's vector (scalars come back as one sample with no labels). */
    async query(expr: string): Promise<PromSample[]> {
      const data = await api(`/api/v1/query?query=${encodeURIComponent(expr)}`);
      if (data.resultType === 'scalar') return [{ metric: {}, value: data.result }];
      return data.result as PromSample[];
    },
    async exemplars(expr: string, startSeconds: number): Promise<Array<{ seriesLabels: Record<string, string>; exemplars: Array<{ labels: Record<string, string> }> }>> {
      return api(`/api/v1/query_exemplars?query=${encodeURIComponent(expr)}&start=${startSeconds}&end=${Date.now() / 1000 + 1}`);
    },
    /** Completed scrapes of the service so far (each target's sample count grows by one per scrape). */
    async scrapes(): Promise<number> {
      const r = await this.query('count_over_time(up{job="tv-webhook"}[1h])');
      return r.length ? Number(r[0]!.value[1]) : 0;
    },
    async stop(): Promise<void> {
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
