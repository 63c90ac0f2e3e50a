import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort } from '../tests/support/freePort.js';
import { BENCH_SERVICE_ENV, readStartArgs } from './benchService.js';
import { threadCpuSeconds } from './readProcCpu.js';
import { startChild, type Child } from './startChild.js';
import { median } from './stats.js';
import { startDiscardingReceiver } from './startDiscardingReceiver.js';

/**
 * Two services at once, A and B, under the same load, compared by CPU per request: the machine's drift (these
 * 2-core machines run the same phase 20% faster or slower from one minute to the next) falls on both alike,
 * where the bench measures one service after the other. Each runs as `npm start` runs it (its checkout's Node.js
 * flags), with its own embedded Postgres and OTLP export to one discarding receiver; each gets its own sender
 * (bench/requestSender.js: the bench's mix, paced at --rate a second, or closed loop with 20 connections).
 * After a 5 s warm-up, each repetition prints the CPU per request answered of each service's main thread, its
 * other threads by name and its whole process, and B - A; the end, the medians of B - A. Postgres is left out:
 * with the worker off the job queue grows, and without the bench's ANALYZE before each phase its plans drift
 * (run.ts), more in one service's database than in the other's.
 *
 *   node dist/bench/pairedCost.js --b-env '{"MONITORING_ENABLED":"false"}'     # monitoring's cost: A monitored, B not
 *   git worktree add /tmp/before <commit> && (cd /tmp/before && npm ci && npm run build)
 *   node dist/bench/pairedCost.js --a /tmp/before                               # this checkout (B) against a build of another (A)
 */
const { values: flags } = parseArgs({
  options: {
    a: { type: 'string', default: '' },
    b: { type: 'string', default: '' },
    'a-env': { type: 'string', default: '{}' },
    'b-env': { type: 'string', default: '{}' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '12' },
    reps: { type: 'string', default: '4' },
  },
});
const here = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const sender = fileURLToPath(new URL('./requestSender.js', import.meta.url));

interface Service extends Child {
  dataDir: string;
}

async function start(name: string, root: string, env: Record<string, string>, otlp: string): Promise<Service> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `paired-${name}-`));
  const port = await freePort();
  const childEnv = {
    ...BENCH_SERVICE_ENV, PORT: String(port), OPS_PORT: String(await freePort()), EMBEDDED_PG_PORT: String(await freePort()),
    DATA_DIR: dataDir, OTEL_EXPORTER_OTLP_ENDPOINT: otlp, ...env,
  };
  return { ...(await startChild(name, await readStartArgs(root), childEnv, `http://127.0.0.1:${port}`)), dataDir };
}

function send(s: Service, seconds: number, first: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [sender, `${s.url}/api/webhooks/tradingview`, String(seconds), flags.rate, String(first)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('exit', (code) => (code === 0 ? resolve((JSON.parse(out) as { answered: number }).answered) : reject(new Error(`sender exited with ${code}`))));
  });
}

/** µs per request of each thread name between two readings (the main thread as `main`), and of the process. */
function perRequest(before: Record<string, number>, after: Record<string, number>, requests: number): Record<string, number> {
  const us = (seconds: number) => Math.round((seconds * 1e6) / requests);
  const out: Record<string, number> = {};
  let process = 0;
  for (const [thread, seconds] of Object.entries(after)) {
    const used = seconds - (before[thread] ?? 0);
    process += used;
    if (used > 0) out[thread === 'node' || thread === 'MainThread' ? 'main' : thread] = us(used);
  }
  out.process = us(process);
  return out;
}

const receiver = await startDiscardingReceiver();
const services: Service[] = [];
try {
  services.push(await start('a', flags.a || here, JSON.parse(flags['a-env']) as Record<string, string>, receiver.endpoint));
  services.push(await start('b', flags.b || here, JSON.parse(flags['b-env']) as Record<string, string>, receiver.endpoint));
  const [a, b] = services as [Service, Service];
  // Each sender's mix starts where no other has been, so no alert repeats another run's (a duplicate is cheaper).
  let first = (Date.now() % 1_000_000) * 1000;
  await Promise.all([send(a, 5, first), send(b, 5, first + 500_000)]);
  const diffs: Record<string, number[]> = {};
  for (let rep = 1; rep <= Number(flags.reps); rep += 1) {
    first += 1_000_000;
    const before = await Promise.all([threadCpuSeconds(a.pid), threadCpuSeconds(b.pid)]);
    const [na, nb] = await Promise.all([send(a, Number(flags.seconds), first), send(b, Number(flags.seconds), first + 500_000)]);
    const after = await Promise.all([threadCpuSeconds(a.pid), threadCpuSeconds(b.pid)]);
    const ra = perRequest(before[0], after[0], na);
    const rb = perRequest(before[1], after[1], nb);
    const diff = Object.fromEntries([...new Set([...Object.keys(ra), ...Object.keys(rb)])].map((k) => [k, (rb[k] ?? 0) - (ra[k] ?? 0)]));
    for (const [k, v] of Object.entries(diff)) (diffs[k] ??= []).push(v);
    console.log(`rep ${rep}: A ${na} answered ${JSON.stringify(ra)}; B ${nb} answered ${JSON.stringify(rb)}; B - A (µs a request) ${JSON.stringify(diff)}`);
  }
  console.log(`B - A, median of ${flags.reps} (µs a request): ${JSON.stringify(Object.fromEntries(Object.entries(diffs).map(([k, v]) => [k, median(v)])))}`);
} finally {
  await Promise.all(services.map((s) => s.stop()));
  await receiver.close();
  for (const s of services) await rm(s.dataDir, { recursive: true, force: true });
}
