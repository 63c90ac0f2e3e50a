import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { OVERVIEW_UID } from '../grafana/src/overviewDashboard.js';
import { parseConfig } from '../src/config/parseConfig.js';
import { projectRoot } from '../src/db/projectRoot.js';
import { requireTools, TOOLS } from './support/stackTools.js';

const root = projectRoot();
const read = (...p: string[]) => readFile(path.join(root, ...p), 'utf8');

/** What an operator must put in .env: compose refuses to start without them. */
const REQUIRED_ENV = { GRAFANA_ADMIN_PASSWORD: 'test-only-grafana-password', DOMAIN: 'hooks.example.com' };

/**
 * docker-compose (Debian's, installed by .ci/run) validates and normalises the file; no Docker engine needed.
 * It runs with only `env` (plus PATH and HOME), so that the caller's environment cannot change the answer.
 */
function composeConfig(env: Record<string, string> = REQUIRED_ENV): { status: number | null; output: string; stdout: string } {
  const r = spawnSync(TOOLS.dockerCompose, ['config'], { cwd: root, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env } });
  if (r.error) throw new Error(`docker-compose could not run (${r.error.message}); .ci/run installs Debian's docker-compose package`);
  return { status: r.status, output: `${r.stdout}${r.stderr}`, stdout: r.stdout };
}

function composeServices(env?: Record<string, string>): Record<string, any> {
  const r = composeConfig(env);
  assert.equal(r.status, 0, r.output);
  return parseYaml(r.stdout).services;
}

/** A service's published ports, from either form docker-compose normalises to ("ip:published:target/tcp" or long). */
function publishedPorts(service: any): Array<{ hostIp: string; published: number; target: number }> {
  return (service.ports ?? []).map((p: any) => {
    if (typeof p === 'object') return { hostIp: p.host_ip ?? '', published: Number(p.published), target: Number(p.target) };
    const parts = String(p).replace(/\/(tcp|udp)$/, '').split(':');
    const target = Number(parts.pop());
    const published = Number(parts.pop());
    return { hostIp: parts.join(':'), published, target };
  });
}

const volumeText = (v: any) => (typeof v === 'string' ? v : `${v.source}:${v.target}${v.read_only ? ':ro' : ''}`);

describe('docker compose stack: the file is valid and its parts agree with each other', function () {
  let services: Record<string, any>;
  before(function () {
    requireTools(this, TOOLS.dockerCompose);
    services = composeServices();
  });

  it('runs the app, postgres, the collector, Jaeger v2, Prometheus, Grafana and Caddy on pinned images', () => {
    assert.deepEqual(Object.keys(services).sort(), ['app', 'caddy', 'grafana', 'jaeger', 'otel-collector', 'postgres', 'prometheus']);
    for (const [name, s] of Object.entries(services)) {
      if (name === 'app') continue;
      assert.match(s.image, /:v?[0-9][\w.-]*$/, `${name} pins a version`);
      assert.doesNotMatch(s.image, /:latest$/);
    }
    assert.match(services['otel-collector'].image, /^otel\/opentelemetry-collector-contrib:/);
    assert.match(services.jaeger.image, /^jaegertracing\/jaeger:2\./, 'Jaeger v2, not the end-of-life v1 all-in-one');
  });

  it('gives every service a health check except the collector, whose image has no shell (Prometheus watches it)', () => {
    for (const [name, s] of Object.entries(services)) {
      if (name === 'otel-collector') continue;
      assert.ok(s.healthcheck?.test, `${name} has a health check`);
    }
    assert.equal(services.app.depends_on.postgres.condition, 'service_healthy');
  });

  it('Prometheus keeps exemplars, loads the rules and scrapes the app and the collector where compose runs them', async () => {
    assert.ok(services.prometheus.command.includes('--enable-feature=exemplar-storage'));
    const config = parseYaml(await read('prometheus', 'prometheus.yml'));
    const targets = Object.fromEntries(config.scrape_configs.map((c: any) => [c.job_name, c.static_configs[0].targets[0]]));
    // The operations listener, where /metrics is served (not the public webhook port).
    assert.equal(targets['tv-webhook'], `app:${services.app.environment.OPS_PORT}`);
    assert.equal(targets['otel-collector'], 'otel-collector:8888');
    assert.deepEqual(config.rule_files, ['rules/*.yml']);
    assert.ok(services.prometheus.volumes.some((v: any) => volumeText(v).includes('/etc/prometheus')));
  });

  it('the app exports spans to the collector, and the collector sends them on to Jaeger', async () => {
    assert.equal(services.app.environment.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://otel-collector:4318');
    const collector = parseYaml(await read('otel', 'collector.yaml'));
    assert.equal(collector.receivers.otlp.protocols.http.endpoint, '0.0.0.0:4318');
    assert.equal(collector.exporters['otlp/jaeger'].endpoint, 'jaeger:4317');
    assert.deepEqual(collector.service.pipelines.traces.processors, ['memory_limiter', 'tail_sampling', 'batch']);
    const policies = collector.processors.tail_sampling.policies.map((p: any) => p.type);
    assert.deepEqual(policies, ['status_code', 'string_attribute', 'latency', 'probabilistic']);
    // The sampling settings come from the environment, which compose must provide.
    for (const name of ['TAIL_SAMPLING_SLOW_MS', 'TAIL_SAMPLING_PERCENT']) {
      assert.ok(JSON.stringify(collector.processors.tail_sampling).includes(`\${env:${name}}`), name);
      assert.match(String(services['otel-collector'].environment[name]), /^\d+$/, `${name} set by compose`);
    }
  });

  it('Grafana opens on the overview dashboard, with datasources whose uids the dashboards use', async () => {
    assert.equal(services.grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH, `/var/lib/grafana/dashboards/${OVERVIEW_UID}.json`);
    await read('grafana', 'dashboards', `${OVERVIEW_UID}.json`);
    const ds = parseYaml(await read('grafana', 'provisioning', 'datasources', 'datasources.yml')).datasources;
    const byUid = Object.fromEntries(ds.map((d: any) => [d.uid, d]));
    assert.deepEqual(byUid.prometheus.jsonData.exemplarTraceIdDestinations, [{ name: 'trace_id', datasourceUid: 'jaeger' }]);
    assert.equal(byUid.jaeger.type, 'jaeger');
    assert.equal(byUid.postgres.user, 'grafana_reader', 'Grafana reads Postgres through the read-only role');
  });

  it('the Dockerfile is multi-stage, installs production dependencies only, runs as non-root, and has a HEALTHCHECK', async () => {
    const dockerfile = await read('Dockerfile');
    assert.equal(dockerfile.match(/^FROM /gm)?.length, 2);
    assert.match(dockerfile, /npm ci --omit=dev/);
    assert.match(dockerfile, /^USER node$/m);
    assert.match(dockerfile, /^HEALTHCHECK /m);
  });
});

describe('docker compose stack: safe by default', function () {
  let services: Record<string, any>;
  before(function () {
    requireTools(this, TOOLS.dockerCompose);
    services = composeServices();
  });

  it('refuses to start without GRAFANA_ADMIN_PASSWORD or DOMAIN, saying which to set', () => {
    for (const name of Object.keys(REQUIRED_ENV) as Array<keyof typeof REQUIRED_ENV>) {
      const env: Record<string, string> = { ...REQUIRED_ENV };
      delete env[name];
      const r = composeConfig(env);
      assert.notEqual(r.status, 0, `compose config without ${name}`);
      assert.match(r.output, new RegExp(`set ${name} in \\.env`));
    }
  });

  it('publishes every port on 127.0.0.1, except Caddy\'s 80 and 443 on all interfaces', () => {
    const open: string[] = [];
    for (const [name, service] of Object.entries(services)) {
      for (const p of publishedPorts(service)) {
        if (p.hostIp === '127.0.0.1') continue;
        open.push(`${name}:${p.published}`);
        assert.ok(p.hostIp === '' || p.hostIp === '0.0.0.0', `${name}:${p.published} on ${p.hostIp}`);
      }
    }
    assert.deepEqual(open.sort(), ['caddy:443', 'caddy:80']);
    assert.ok(publishedPorts(services.grafana).length > 0 && publishedPorts(services.prometheus).length > 0, 'the UIs stay reachable from this host');
  });

  it('opens a service to other machines only when the operator sets its *_BIND_ADDRESS', () => {
    const opened = composeServices({ ...REQUIRED_ENV, GRAFANA_BIND_ADDRESS: '0.0.0.0' });
    assert.deepEqual(publishedPorts(opened.grafana).map((p) => p.hostIp), ['0.0.0.0']);
    assert.deepEqual(publishedPorts(opened.prometheus).map((p) => p.hostIp), ['127.0.0.1'], 'the others stay on loopback');
  });

  it('Grafana has no default admin password and no anonymous access unless turned on', async () => {
    const env = services.grafana.environment;
    assert.equal(env.GF_SECURITY_ADMIN_PASSWORD, REQUIRED_ENV.GRAFANA_ADMIN_PASSWORD, 'the password comes from the environment');
    assert.doesNotMatch(await read('docker-compose.yml'), /GRAFANA_ADMIN_PASSWORD:-/, 'no fallback password');
    assert.equal(env.GF_AUTH_ANONYMOUS_ENABLED, 'false');
    const anonymous = composeServices({ ...REQUIRED_ENV, GRAFANA_ANONYMOUS_ENABLED: 'true' });
    assert.equal(anonymous.grafana.environment.GF_AUTH_ANONYMOUS_ENABLED, 'true');
  });

  it('Prometheus runs without --web.enable-lifecycle (no HTTP shutdown or reload)', () => {
    assert.ok(!services.prometheus.command.some((arg: string) => arg.startsWith('--web.enable-lifecycle')), services.prometheus.command.join(' '));
  });

  it('the app publishes its webhook listener; /metrics and the admin API are on the operations listener, which Prometheus scrapes', async () => {
    // The app's settings as the container sees them: the Dockerfile's ENV, then compose's environment.
    const dockerfileEnv = Object.fromEntries([...(await read('Dockerfile')).matchAll(/^\s*(?:ENV\s+)?([A-Z_]+)=(\S+)/gm)].map((m) => [m[1]!, m[2]!]));
    const config = parseConfig({ ...dockerfileEnv, ...services.app.environment });
    assert.equal(config.http.port, 3000);
    assert.equal(config.http.opsHost, '0.0.0.0', 'reachable by Prometheus on the compose network');
    assert.equal(config.http.adminApiOnOps, true, 'the admin API is not behind Caddy');
    assert.deepEqual(publishedPorts(services.app).map((p) => [p.hostIp, p.target]).sort(), [['127.0.0.1', config.http.opsPort], ['127.0.0.1', config.http.port]].sort());
    const prometheus = parseYaml(await read('prometheus', 'prometheus.yml'));
    const job = prometheus.scrape_configs.find((c: any) => c.job_name === 'tv-webhook');
    assert.deepEqual(job.static_configs[0].targets, [`app:${config.http.opsPort}`]);
  });

  it('Caddy (a pinned 2.x image, the major version of Debian\'s caddy) serves the public ports and forwards to the app\'s webhook listener', () => {
    const caddy = services.caddy;
    const major = /^caddy:(\d+)\.\d+\.\d+/.exec(caddy.image)?.[1];
    assert.equal(major, '2', caddy.image);
    const debian = spawnSync('caddy', ['version'], { encoding: 'utf8' });
    if (!debian.error) assert.equal(/v?(\d+)\./.exec(debian.stdout)?.[1], major, `Debian's caddy: ${debian.stdout}`);
    assert.ok(caddy.volumes.map(volumeText).includes(`${path.join(root, 'deploy', 'Caddyfile')}:/etc/caddy/Caddyfile:ro`), JSON.stringify(caddy.volumes));
    assert.equal(caddy.environment.UPSTREAM, 'app:3000');
    assert.equal(caddy.environment.DOMAIN, REQUIRED_ENV.DOMAIN);
    assert.deepEqual(publishedPorts(caddy).map((p) => [p.published, p.target]).sort(), [[443, 443], [80, 80]]);
    assert.equal(caddy.depends_on.app.condition, 'service_healthy');
  });
});
