import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { OVERVIEW_UID } from '../grafana/src/overviewDashboard.js';
import { projectRoot } from '../src/db/projectRoot.js';
import { requireTools, TOOLS } from './support/stackTools.js';

const root = projectRoot();
const read = (...p: string[]) => readFile(path.join(root, ...p), 'utf8');

/** docker-compose (Debian's, installed by .ci/run) validates and normalises the file; no Docker engine needed. */
function composeConfig(): { status: number | null; output: string; stdout: string } {
  const r = spawnSync(TOOLS.dockerCompose, ['config'], { cwd: root, encoding: 'utf8' });
  if (r.error) throw new Error(`docker-compose could not run (${r.error.message}); .ci/run installs Debian's docker-compose package`);
  return { status: r.status, output: `${r.stdout}${r.stderr}`, stdout: r.stdout };
}

describe('docker compose stack: the file is valid and its parts agree with each other', function () {
  let services: Record<string, any>;
  before(function () {
    requireTools(this, TOOLS.dockerCompose);
    const r = composeConfig();
    assert.equal(r.status, 0, r.output);
    services = parseYaml(r.stdout).services;
  });

  it('runs the app, postgres, the collector, Jaeger v2, Prometheus and Grafana on pinned images', () => {
    assert.deepEqual(Object.keys(services).sort(), ['app', 'grafana', 'jaeger', 'otel-collector', 'postgres', 'prometheus']);
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
    assert.equal(targets['tv-webhook'], 'app:3000');
    assert.equal(targets['otel-collector'], 'otel-collector:8888');
    assert.deepEqual(config.rule_files, ['rules/*.yml']);
    assert.ok(services.prometheus.volumes.some((v: any) => (typeof v === 'string' ? v : `${v.source}:${v.target}`).includes('/etc/prometheus')));
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
