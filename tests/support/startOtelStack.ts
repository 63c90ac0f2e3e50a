import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../src/db/projectRoot.js';
import { freePort } from './freePort.js';
import { TOOLS } from './stackTools.js';
import { waitFor } from './waitFor.js';

export interface JaegerBuild {
  /** The binary: the collector (with otel/collector.yaml) and Jaeger (with otel/jaeger.yaml). */
  bin: string;
  /** Jaeger's v2 version, the tag of the jaegertracing/jaeger image (e.g. 2.13.0). */
  version: string;
  /** The Go module's version pinned in otel/tools/go.mod (e.g. v1.76.0). */
  moduleVersion: string;
}

let build: Promise<JaegerBuild> | undefined;

/**
 * Runs otel/tools/build.sh once per process: a cache hit returns at once; a cold build (Go modules and the
 * build cache empty) takes minutes, so callers allow for it in their timeout. .ci/run builds before the tests.
 */
export function buildJaeger(): Promise<JaegerBuild> {
  build ??= new Promise((resolve, reject) => {
    const goDir = path.dirname(TOOLS.go);
    const env = { ...process.env, PATH: goDir === '.' ? process.env.PATH : `${goDir}${path.delimiter}${process.env.PATH}` };
    const child = spawn('bash', [path.join(projectRoot(), 'otel', 'tools', 'build.sh')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.once('error', reject);
    child.once('exit', (code) => {
      const [bin, version, moduleVersion] = out.trim().split('\n');
      if (code !== 0 || !bin || !version || !moduleVersion) reject(new Error(`otel/tools/build.sh failed (exit ${code}): ${err.slice(-2000)}`));
      else resolve({ bin, version, moduleVersion });
    });
  });
  return build;
}

/** The address part of `${env:NAME:-default}` in a shipped configuration file, for comparisons in tests. */
export function envDefault(value: unknown): string {
  const m = /^\$\{env:[A-Z0-9_]+:-(.*)\}$/.exec(String(value));
  return m ? m[1]! : String(value);
}

interface OtelProcess {
  child: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

/** Starts the binary with a shipped configuration file and `env`, and waits until its health check answers. */
async function startOtelProcess(bin: string, config: string, env: Record<string, string>, healthUrl: string): Promise<OtelProcess> {
  let log = '';
  // Only the variables the configuration reads (plus PATH and HOME), so the caller's OTEL_* cannot leak in.
  const child = spawn(bin, [`--config=${path.join(projectRoot(), 'otel', config)}`], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (c) => (log += c));
  child.stderr!.on('data', (c) => (log = (log + c).slice(-200_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new Error(`${bin} could not start: ${err.message}`)));
    child.once('exit', (code) => reject(new Error(`${config}: ${bin} exited with ${code}: ${log.slice(-3000)}`)));
  });
  failed.catch(() => undefined);
  await Promise.race([failed, waitFor(async () => (await fetch(healthUrl)).ok, { timeoutMs: 30_000, what: `${config} healthy (log: ${log.slice(-1000)})` })]);
  return {
    child,
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A span as Jaeger's query API returns it, with its tags as a plain object. */
export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  parentSpanID: string | undefined;
  startTime: number;
  duration: number;
  tags: Record<string, string | number | boolean>;
}

function decodeTrace(trace: any): JaegerSpan[] {
  return trace.spans.map((s: any) => ({
    traceID: s.traceID,
    spanID: s.spanID,
    operationName: s.operationName,
    parentSpanID: s.references?.find((r: any) => r.refType === 'CHILD_OF')?.spanID,
    startTime: s.startTime,
    duration: s.duration,
    tags: Object.fromEntries(s.tags.map((t: any) => [t.key, t.value])),
  }));
}

/** Jaeger v2 all-in-one (otel/jaeger.yaml): OTLP gRPC in, memory storage, query API, on free loopback ports. */
export async function startJaeger(bin: string) {
  const [otlp, http, grpc, health, metrics] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const proc = await startOtelProcess(bin, 'jaeger.yaml', {
    JAEGER_OTLP_GRPC_ENDPOINT: `127.0.0.1:${otlp}`,
    JAEGER_QUERY_HTTP_ENDPOINT: `127.0.0.1:${http}`,
    JAEGER_QUERY_GRPC_ENDPOINT: `127.0.0.1:${grpc}`,
    JAEGER_HEALTH_ENDPOINT: `127.0.0.1:${health}`,
    JAEGER_METRICS_PORT: String(metrics),
  }, `http://127.0.0.1:${health}/`);
  const queryUrl = `http://127.0.0.1:${http}`;
  return {
    ...proc,
    otlpGrpcEndpoint: `127.0.0.1:${otlp}`,
    queryUrl,
    /** Traces of `service` whose spans carry every tag in `tags` (Jaeger's trace search). */
    async findTraces(service: string, tags: Record<string, string>): Promise<JaegerSpan[][]> {
      const q = new URLSearchParams({ service, tags: JSON.stringify(tags), lookback: '1h', limit: '20' });
      const res = await fetch(`${queryUrl}/api/traces?${q}`);
      if (!res.ok) throw new Error(`jaeger search: ${res.status} ${await res.text()}`);
      const body = (await res.json()) as { data: any[] | null };
      return (body.data ?? []).map(decodeTrace);
    },
    /** The trace with this id, or undefined when Jaeger does not have it. */
    async getTrace(traceId: string): Promise<JaegerSpan[] | undefined> {
      const res = await fetch(`${queryUrl}/api/traces/${traceId}`);
      if (res.status === 404) return undefined;
      if (!res.ok) throw new Error(`jaeger trace ${traceId}: ${res.status} ${await res.text()}`);
      const body = (await res.json()) as { data: any[] | null };
      return body.data?.length ? decodeTrace(body.data[0]) : undefined;
    },
  };
}

/**
 * The collector (the same binary with the shipped otel/collector.yaml) on free loopback ports, exporting to
 * `jaegerOtlp`, with the tail-sampling settings compose passes as environment variables.
 */
export async function startCollector(bin: string, options: { jaegerOtlp: string; percent: number; slowMs: number }) {
  const [grpc, http, health, metrics] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const proc = await startOtelProcess(bin, 'collector.yaml', {
    COLLECTOR_OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`,
    COLLECTOR_OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`,
    COLLECTOR_HEALTH_ENDPOINT: `127.0.0.1:${health}`,
    COLLECTOR_METRICS_HOST: '127.0.0.1',
    COLLECTOR_METRICS_PORT: String(metrics),
    JAEGER_OTLP_ENDPOINT: options.jaegerOtlp,
    TAIL_SAMPLING_PERCENT: String(options.percent),
    TAIL_SAMPLING_SLOW_MS: String(options.slowMs),
  }, `http://127.0.0.1:${health}/`);
  return {
    ...proc,
    /** For the service's OTEL_EXPORTER_OTLP_ENDPOINT (OTLP/HTTP). */
    otlpHttpUrl: `http://127.0.0.1:${http}`,
    /** host:port of the collector's own metrics (compose: otel-collector:8888). */
    metricsTarget: `127.0.0.1:${metrics}`,
    /** The collector's own metrics, as Prometheus text. */
    async metrics(): Promise<string> {
      return (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text();
    },
  };
}
