import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { pino } from 'pino';
import { startEmbeddedPostgres } from '../src/db/startEmbeddedPostgres.js';
import { freePort } from '../tests/support/freePort.js';
import { BENCH_SERVICE_ENV, readStartArgs } from './benchService.js';
import { runClosed } from './closedLoad.js';
import { runPaced } from './pacedLoad.js';
import { postgresCpuSeconds, processCpuSeconds, readPostmasterPid } from './readProcCpu.js';
import { makeRequestMix } from './requestMix.js';
import { startReceiverThread } from './startReceiverThread.js';
import { median, round } from './stats.js';

/**
 * Two services measured one after the other, as the bench measures them, alternating which goes first, for many
 * short reps: at a paced rate (the p50 and p99 of each rep) or closed loop (`--rate 0`, 50 connections: req/s).
 * Both use one embedded Postgres (a database each, ANALYZEd before every rep, as run.ts does) and one OTLP
 * receiver thread. Each rep also prints the CPU per answer of the service's process and of Postgres, the
 * transactions a request, and (with --trace-gc) the young- and old-generation collections V8 made in it. The end
 * prints the medians and B / A. Where the bench's one figure a run hides how far a phase moves on its own (the
 * 1,000/s p99 among them), this shows the spread of many reps of both.
 *
 *   node dist/bench/pacedPair.js --a-env '{"MONITORING_ENABLED":"false"}'                # A the pipeline, B monitored
 *   node dist/bench/pacedPair.js --b-env '{"MONITORING_FLUSH_INTERVAL_MS":"50"}' --a-env '{}' --reps 8
 *   node dist/bench/pacedPair.js --a /tmp/before --rate 0                                 # another build, closed loop
 */
const { values: flags } = parseArgs({
  options: {
    a: { type: 'string', default: '' },
    b: { type: 'string', default: '' },
    'a-env': { type: 'string', default: '{"MONITORING_ENABLED":"false"}' },
    'b-env': { type: 'string', default: '{}' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '6' },
    reps: { type: 'string', default: '6' },
    'trace-gc': { type: 'boolean', default: false },
  },
});
const here = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const rate = Number(flags.rate);
const seconds = Number(flags.seconds);

interface Collection { atMs: number; young: boolean; pauseMs: number }
interface Service { name: string; url: string; child: ChildProcess; stats: pg.Client; collections: Collection[]; dataDir: string }
interface Rep { p50: number; p99: number; reqPerSecond: number; nodeUs: number; postgresUs: number; transactions: number; young: string; old: string }

/** `--trace-gc` lines: "Scavenge 40.1 (50.2) -> 30.0 (51.2) MB, pooled: 0 MB, 5.12 / 0.00 ms ..." */
const GC_LINE = /(Scavenge|Mark-Compact)[^,]*,.*?([\d.]+) \/ [\d.]+ ms/;

async function start(name: string, root: string, env: Record<string, string>, databaseUrl: string, otlp: string): Promise<Service> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `paced-pair-${name}-`));
  const port = await freePort();
  const args = [...(flags['trace-gc'] ? ['--trace-gc'] : []), ...(await readStartArgs(root))];
  const childEnv = { ...process.env, ...BENCH_SERVICE_ENV, PORT: String(port), OPS_PORT: String(await freePort()), DATABASE_URL: databaseUrl, DATA_DIR: dataDir, OTEL_EXPORTER_OTLP_ENDPOINT: otlp, ...env };
  const child = spawn(process.execPath, args, { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const collections: Collection[] = [];
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      const m = GC_LINE.exec(line);
      if (m) collections.push({ atMs: performance.now(), young: m[1] === 'Scavenge', pauseMs: Number(m[2]) });
    }
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (!(await fetch(`${url}/readyz`).then((r) => r.ok, () => false))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${name} did not become ready:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const stats = new pg.Client({ connectionString: databaseUrl });
  await stats.connect();
  return { name, url, child, stats, collections, dataDir };
}

async function transactions(s: Service): Promise<number> {
  const { rows } = await s.stats.query<{ n: string }>('SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = current_database()');
  return Number(rows[0]!.n);
}

function describe(list: Collection[]): string {
  const total = list.reduce((sum, c) => sum + c.pauseMs, 0);
  return `${list.length} (${round(total, 1)} ms)`;
}

const work = await mkdtemp(path.join(os.tmpdir(), 'paced-pair-'));
// Run as root, Postgres runs as `postgres`, which must enter the folder. Left at mkdtemp's 0700 the cluster was
// placed under /var/lib/tv-webhook-postgres/clusters instead (placeCluster) and stayed there when this folder was
// removed: 1.4 GB a run, until the disk was full and Postgres stopped in the middle of a full bench run.
await chmod(work, 0o755);
const db = await startEmbeddedPostgres({ dataDir: path.join(work, 'pg'), port: await freePort(), superuserPassword: randomBytes(24).toString('base64url'), logger: pino({ level: 'warn' }) });
const receiver = await startReceiverThread();
const services: Service[] = [];
try {
  const admin = new pg.Client({ connectionString: db.adminUrl });
  await admin.connect();
  for (const name of ['pair_a', 'pair_b']) await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const dbUrl = (name: string) => Object.assign(new URL(db.adminUrl), { pathname: `/${name}` }).toString();
  const postmaster = await readPostmasterPid(db.clusterDir);
  services.push(await start('A', flags.a || here, JSON.parse(flags['a-env']) as Record<string, string>, dbUrl('pair_a'), receiver.endpoint));
  services.push(await start('B', flags.b || here, JSON.parse(flags['b-env']) as Record<string, string>, dbUrl('pair_b'), receiver.endpoint));
  const target = (s: Service) => `${s.url}/api/webhooks/tradingview`;
  let first = 0;
  const mix = () => {
    const next = makeRequestMix((first += 1_000_000));
    return () => next().body;
  };
  // The bench's warm-up: 6 s closed loop at 50 connections each.
  for (const s of services) await runClosed(target(s), 50, 6, mix());
  const reps: Record<string, Rep[]> = { A: [], B: [] };
  for (let rep = 0; rep < Number(flags.reps); rep += 1) {
    for (const s of rep % 2 === 0 ? services : [...services].reverse()) {
      const body = mix();
      await s.stats.query('ANALYZE');
      const [tx0, node0, pg0] = [await transactions(s), await processCpuSeconds(s.child.pid!), await postgresCpuSeconds(postmaster)];
      const t0 = performance.now();
      let answered: number;
      let p50 = NaN;
      let p99 = NaN;
      if (rate > 0) {
        const r = await runPaced(target(s), rate, seconds * 1000, body);
        ({ answered } = r);
        ({ p50, p99 } = r.latencyMs);
      } else {
        answered = (await runClosed(target(s), 50, seconds, body)).total;
      }
      const elapsedMs = performance.now() - t0;
      const [node1, pg1, tx1] = [await processCpuSeconds(s.child.pid!), await postgresCpuSeconds(postmaster), await transactions(s)];
      // --trace-gc lines are written as the collections happen: 300 ms for the last ones to arrive.
      await new Promise((r) => setTimeout(r, 300));
      const inRep = s.collections.filter((c) => c.atMs >= t0 && c.atMs <= t0 + elapsedMs + 300);
      const r: Rep = {
        p50: round(p50),
        p99: round(p99),
        reqPerSecond: Math.round(answered / (elapsedMs / 1000)),
        nodeUs: Math.round(((node1 - node0) * 1e6) / answered),
        postgresUs: Math.round(((pg1 - pg0) * 1e6) / answered),
        transactions: round((tx1 - tx0) / answered, 3),
        young: describe(inRep.filter((c) => c.young)),
        old: describe(inRep.filter((c) => !c.young)),
      };
      reps[s.name]!.push(r);
      console.log(`rep ${rep + 1} ${s.name}: ${JSON.stringify(r)}`);
    }
  }
  const med = (name: string, key: 'p50' | 'p99' | 'reqPerSecond' | 'nodeUs' | 'postgresUs') => median(reps[name]!.map((r) => r[key]));
  for (const key of ['p50', 'p99', 'reqPerSecond', 'nodeUs', 'postgresUs'] as const) {
    console.log(`${key}: A ${reps.A!.map((r) => r[key]).join(', ')}; B ${reps.B!.map((r) => r[key]).join(', ')}; medians A ${med('A', key)}, B ${med('B', key)}, B / A ${round(med('B', key) / med('A', key), 3)}`);
  }
} finally {
  for (const s of services) {
    await s.stats.end().catch(() => undefined);
    s.child.kill('SIGTERM');
    if (s.child.exitCode === null) await new Promise((r) => s.child.once('exit', r));
    await rm(s.dataDir, { recursive: true, force: true });
  }
  await receiver.close();
  await db.stop();
  await rm(work, { recursive: true, force: true });
}
