import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { PLAIN_SETTINGS, renderAlertmanagerConfig, SECRET_SETTINGS } from '../alertmanager/renderConfig.js';
import { OVERVIEW_UID } from '../grafana/src/overviewDashboard.js';
import { parseConfig } from '../src/config/parseConfig.js';
import { projectRoot } from '../src/db/projectRoot.js';
import { envDefault } from './support/startOtelStack.js';
import { runAmtool } from './support/startAlertmanager.js';
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

  it('runs the app, postgres, the collector, Jaeger v2, Prometheus, Alertmanager, Grafana and Caddy on pinned images', () => {
    assert.deepEqual(Object.keys(services).sort(), ['alertmanager', 'alertmanager-config', 'app', 'caddy', 'grafana', 'jaeger', 'otel-collector', 'postgres', 'prometheus']);
    for (const [name, s] of Object.entries(services)) {
      if (name === 'app') continue;
      assert.match(s.image, /:v?[0-9][\w.-]*$/, `${name} pins a version`);
      assert.doesNotMatch(s.image, /:latest$/);
    }
    assert.match(services.jaeger.image, /^jaegertracing\/jaeger:2\./, 'Jaeger v2, not the end-of-life v1 all-in-one');
    assert.equal(services['otel-collector'].image, services.jaeger.image, 'the collector is Jaeger\'s binary, the same image');
    assert.deepEqual(services['otel-collector'].command, ['--config=/etc/jaeger/collector.yaml']);
    assert.ok(services['otel-collector'].volumes.map(volumeText).includes(`${path.join(root, 'otel', 'collector.yaml')}:/etc/jaeger/collector.yaml:ro`));
    assert.deepEqual(services.jaeger.command, ['--config=/etc/jaeger/jaeger.yaml']);
    assert.ok(services.jaeger.volumes.map(volumeText).includes(`${path.join(root, 'otel', 'jaeger.yaml')}:/etc/jaeger/jaeger.yaml:ro`));
  });

  it('runs the Jaeger version the end-to-end tests build (the v2 release of the module otel/tools/go.mod pins)', function () {
    requireTools(this, TOOLS.go);
    const r = spawnSync('bash', [path.join(root, 'otel', 'tools', 'build.sh'), '--versions'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const [version, moduleVersion] = r.stdout.trim().split('\n');
    assert.match(moduleVersion ?? '', /^v1\.\d+\.\d+$/);
    assert.equal(services.jaeger.image, `jaegertracing/jaeger:${version}`);
    assert.equal(services['otel-collector'].image, `jaegertracing/jaeger:${version}`);
  });

  it('gives every service a health check, each on the port its configuration serves it', async () => {
    for (const [name, s] of Object.entries(services)) {
      if (name === 'alertmanager-config') continue; // a one-shot job: it writes the config and exits
      assert.ok(s.healthcheck?.test, `${name} has a health check`);
    }
    assert.equal(services.app.depends_on.postgres.condition, 'service_healthy');
    assert.equal(services.app.depends_on['otel-collector'].condition, 'service_healthy');
    const collector = parseYaml(await read('otel', 'collector.yaml'));
    const jaeger = parseYaml(await read('otel', 'jaeger.yaml'));
    const port = (endpoint: unknown) => envDefault(endpoint).split(':').pop();
    assert.ok(services['otel-collector'].healthcheck.test.includes(`http://localhost:${port(collector.extensions.healthcheckv2.endpoint)}/`));
    assert.ok(services.jaeger.healthcheck.test.includes(`http://localhost:${port(jaeger.extensions.healthcheckv2.endpoint)}/`));
    assert.equal(port(jaeger.extensions.jaeger_query.http.endpoint), '16686');
    assert.deepEqual(publishedPorts(services.jaeger).map((p) => p.target), [16686]);
  });

  it('checks Postgres over TCP: on the first start the server listens on the Unix socket only until it is really up', () => {
    const test: string[] = services.postgres.healthcheck.test;
    assert.equal(test[1], 'pg_isready');
    assert.equal(test[test.indexOf('-h') + 1], '127.0.0.1');
  });

  it('keeps every trace by default, so that every trace_id link (exemplars, records) opens its trace', () => {
    assert.equal(services['otel-collector'].environment.TAIL_SAMPLING_PERCENT, '100');
    const lowered = composeServices({ ...REQUIRED_ENV, TAIL_SAMPLING_PERCENT: '10' });
    assert.equal(lowered['otel-collector'].environment.TAIL_SAMPLING_PERCENT, '10');
  });

  it('Prometheus keeps exemplars, loads the rules and scrapes the app and the collector where compose runs them', async () => {
    assert.ok(services.prometheus.command.includes('--enable-feature=exemplar-storage'));
    const config = parseYaml(await read('prometheus', 'prometheus.yml'));
    const targets = Object.fromEntries(config.scrape_configs.map((c: any) => [c.job_name, c.static_configs[0].targets[0]]));
    // The operations listener, where /metrics is served (not the public webhook port).
    assert.equal(targets['tv-webhook'], `app:${services.app.environment.OPS_PORT}`);
    const collector = parseYaml(await read('otel', 'collector.yaml'));
    const collectorMetrics = collector.service.telemetry.metrics.readers[0].pull.exporter.prometheus;
    assert.equal(targets['otel-collector'], `otel-collector:${envDefault(collectorMetrics.port)}`);
    assert.equal(envDefault(collectorMetrics.host), '0.0.0.0', 'reachable by Prometheus on the compose network');
    assert.deepEqual(config.rule_files, ['rules/*.yml']);
    assert.ok(services.prometheus.volumes.some((v: any) => volumeText(v).includes('/etc/prometheus')));
  });

  it('Alertmanager: the version of Debian\'s amtool (which checks its configuration), started once its configuration is written, and Prometheus sends it the alerts', async () => {
    const am = services.alertmanager;
    const version = /^prom\/alertmanager:v(\d+\.\d+)\.\d+$/.exec(am.image)?.[1];
    assert.ok(version, am.image);
    const amtool = runAmtool(['--version']);
    assert.match(amtool.output, new RegExp(`version ${version.replace('.', '\\.')}\\.`), `amtool ${amtool.output.split('\n')[0]} vs image ${am.image}`);
    assert.equal(am.depends_on['alertmanager-config'].condition, 'service_completed_successfully');
    // The generator writes into the volume Alertmanager reads its --config.file from.
    const configFile = am.command.find((a: string) => a.startsWith('--config.file='))!.slice('--config.file='.length);
    const generator = services['alertmanager-config'];
    const outDir = generator.command.at(-1);
    assert.equal(configFile, `${outDir}/alertmanager.yml`);
    const volumeOf = (s: any, target: string) => s.volumes.find((v: any) => (typeof v === 'string' ? v.split(':')[1] : v.target) === target);
    assert.equal(volumeText(volumeOf(am, outDir)).split(':')[0], volumeText(volumeOf(generator, outDir)).split(':')[0]);
    assert.match(generator.environment.ALERTMANAGER_CONFIG_OWNER, /^65534:65534$/, 'owned by nobody, the user of the Alertmanager image');
    assert.ok(am.command.includes('--cluster.listen-address='), 'no gossip port for a single instance');
    // The generator runs on the Dockerfile's Node.js image (no other image to pull, types stripped natively).
    assert.equal(generator.image, /^FROM (\S+) AS build$/m.exec(await read('Dockerfile'))?.[1]);
    // Prometheus sends to the service's port.
    const listen = am.command.find((a: string) => a.startsWith('--web.listen-address='))!.split(':').at(-1);
    const prometheus = parseYaml(await read('prometheus', 'prometheus.yml'));
    assert.deepEqual(prometheus.alerting.alertmanagers[0].static_configs[0].targets, [`alertmanager:${listen}`]);
    assert.deepEqual(publishedPorts(am).map((p) => p.target), [Number(listen)]);
  });

  it('compose passes every Alertmanager setting through from .env, and what it passes renders a configuration amtool accepts', async function () {
    requireTools(this, TOOLS.amtool);
    const env = services['alertmanager-config'].environment;
    assert.deepEqual([...SECRET_SETTINGS, ...PLAIN_SETTINGS].filter((n) => !(n in env)), []);
    // A trader's .env switching Telegram on; the generator reads what compose would hand the container.
    const withTelegram = composeServices({ ...REQUIRED_ENV, TELEGRAM_BOT_TOKEN: '123456:from-dot-env', TELEGRAM_CHAT_ID: '-1001234567890' })['alertmanager-config'].environment;
    const hostSecrets = volumeText(services['alertmanager-config'].volumes.find((v: any) => volumeText(v).includes(`:${env.ALERT_SECRETS_DIR}`))).split(':')[0];
    assert.equal(hostSecrets, path.join(root, 'alertmanager', 'secrets'), 'secret files come from alertmanager/secrets/, ignored by git');
    assert.match(await read('alertmanager', 'secrets', '.gitignore'), /^\*$/m);
    const rendered = renderAlertmanagerConfig({ ...withTelegram, ALERT_SECRETS_DIR: path.join(root, 'alertmanager', 'secrets') });
    assert.deepEqual(rendered.channels, ['telegram']);
    assert.deepEqual(rendered.warningChannels, ['telegram'], 'an unset ALERT_WARNING_CHANNELS (passed as empty) means every channel');
    const dir = await mkdtemp(path.join(tmpdir(), 'tvw-compose-am-'));
    try {
      await writeFile(path.join(dir, 'alertmanager.yml'), rendered.config);
      await writeFile(path.join(dir, 'links.tmpl'), rendered.links);
      await writeFile(path.join(dir, 'messages.tmpl'), await read('alertmanager', 'templates', 'messages.tmpl'));
      const check = runAmtool(['check-config', path.join(dir, 'alertmanager.yml')]);
      assert.equal(check.status, 0, check.output);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the app exports spans to the collector, and the collector sends them on to Jaeger', async () => {
    assert.equal(services.app.environment.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://otel-collector:4318');
    const collector = parseYaml(await read('otel', 'collector.yaml'));
    assert.equal(envDefault(collector.receivers.otlp.protocols.http.endpoint), '0.0.0.0:4318');
    const jaeger = parseYaml(await read('otel', 'jaeger.yaml'));
    const jaegerOtlpPort = envDefault(jaeger.receivers.otlp.protocols.grpc.endpoint).split(':').pop();
    assert.equal(envDefault(collector.exporters['otlp/jaeger'].endpoint), `jaeger:${jaegerOtlpPort}`);
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

  it('provisions Grafana with every folder it reads (an absent plugins or alerting folder logs an error at each start)', async () => {
    const mount = services.grafana.volumes.map(volumeText).find((v: string) => v.endsWith(':/etc/grafana/provisioning:ro'));
    assert.ok(mount, 'the provisioning folder is mounted');
    const entries = await readdir(path.join(root, 'grafana', 'provisioning'));
    for (const folder of ['dashboards', 'datasources', 'plugins', 'alerting']) assert.ok(entries.includes(folder), folder);
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

  it('the app believes X-Forwarded-For from Caddy\'s fixed address only, inside the stack\'s own subnet', () => {
    const caddyAddress = services.caddy.networks.default.ipv4_address;
    assert.equal(services.app.environment.TRUST_PROXY, caddyAddress);
    assert.ok('IP_ALLOWLIST' in services.app.environment, 'the allowlist can be set from .env');
    const parsed = parseYaml(composeConfig().stdout);
    const subnet: string = parsed.networks.default.ipam.config[0].subnet;
    const prefix = subnet.split('.').slice(0, 3).join('.');
    assert.ok(caddyAddress.startsWith(`${prefix}.`) && subnet.endsWith('/24'), `${caddyAddress} in ${subnet}`);
  });
});
