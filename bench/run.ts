import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { pino } from 'pino';
import { projectRoot } from '../src/db/projectRoot.js';
import { startEmbeddedPostgres } from '../src/db/startEmbeddedPostgres.js';
import { freePort } from '../tests/support/freePort.js';
import { runClosed, type ClosedResult } from './closedLoad.js';
import { runPaced, type PacedResult } from './pacedLoad.js';
import { heapAfterMajorGcs } from './heapAfterMajorGcs.js';
import { checkTargets, printReport, type Summary } from './report.js';
import { makeRequestMix } from './requestMix.js';
import { scrapeEvery } from './scrapeEvery.js';
import { BENCH_SERVICE_ENV, readStartArgs } from './benchService.js';
import { startChild, type Child } from './startChild.js';
import { startReceiverThread } from './startReceiverThread.js';
import { median } from './stats.js';
import { postgresCpuByKind, postgresCpuSeconds, processCpuSeconds, readPostmasterPid, threadCpuSeconds } from './readProcCpu.js';

/**
 * `npm run bench [-- --quick] [-- --soak 120s]`: two bare HTTP baselines (Express, Fastify), the pipeline
 * (MONITORING_ENABLED=false) and the monitored service as shipped, on one embedded Postgres, measured one after
 * the other in rotating order within each round so drift on a noisy machine falls on all alike. Then an
 * overload phase (the monitored service at twice the rate it sustained closed loop) and a soak.
 */
const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    soak: { type: 'string' },
    rounds: { type: 'string' },
    rates: { type: 'string' },
    // Writes a V8 CPU profile of each service process (pipeline, monitored) to bench/results/profiles/.
    profile: { type: 'boolean', default: false },
    // Only the closed-loop rounds (with --profile: a profile of that phase alone, comparable per request).
    'closed-only': { type: 'boolean', default: false },
    // The monitored service without an OTLP endpoint (records and metrics only): what export costs.
    'no-export': { type: 'boolean', default: false },
    // Only the overload phase, at this rate (req/s), after the warm-up: for tuning the load shedder.
    'overload-rate': { type: 'string' },
  },
});
const quick = flags.quick!;
const settings = {
  rounds: Number(flags.rounds ?? (quick ? 1 : 4)),
  warmupSeconds: quick ? 1 : 6,
  // The services' /metrics are scraped this often during the warm-up (see the warm-up below).
  warmupScrapeIntervalMs: quick ? 250 : 1000,
  closedSeconds: quick ? 2 : 4,
  pacedMs: quick ? 1000 : 3000,
  // The rate the latency targets are judged at runs twice as long: 6,000 answers a round, so its p99 rests on the
  // 60 slowest rather than 30 (with 3 s, the pipeline's own p99 at 1,000/s ranged 7.7-41 ms between rounds of one run).
  targetRatePacedMs: quick ? 1000 : 6000,
  connections: 50,
  rates: (flags.rates ?? '200,1000,2000').split(',').map(Number),
  soakRate: 1000,
  soakSeconds: Number.parseInt(flags.soak ?? (quick ? '5' : '60'), 10),
  overloadFactor: 2,
  overloadMs: flags['closed-only'] ? 0 : quick ? 2000 : 5000,
};
if (flags['closed-only']) settings.soakSeconds = 0;
if (flags['overload-rate']) Object.assign(settings, { rounds: 0, soakSeconds: flags.soak ? settings.soakSeconds : 0 });
const MODES = ['express', 'fastify', 'pipeline', 'monitored'] as const;
const SERVICE_MODES = new Set<Mode>(['pipeline', 'monitored']);
type Mode = (typeof MODES)[number];
const WEBHOOK_PATH = '/api/webhooks/tradingview';
const log = (msg: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);

async function scrapeSum(url: string, name: string, labelFilter = ''): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (labelFilter && !line.includes(labelFilter)) continue;
    sum += Number(line.split('#')[0]!.trim().split(' ').pop());
  }
  return sum;
}

/** Cumulative bucket counts of a histogram summed over its other labels: le -> count. */
async function scrapeBuckets(url: string, name: string): Promise<Map<number, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const buckets = new Map<number, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}_bucket{`)) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (!le) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + Number(line.split('#')[0]!.trim().split(' ').pop()));
  }
  return buckets;
}

/** The bucket bound (ms) under which p% of the observations between two scrapes fall. */
function bucketPercentileMs(before: Map<number, number>, after: Map<number, number>, p: number): number {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const total = (after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0);
  for (const b of bounds) if ((after.get(b) ?? 0) - (before.get(b) ?? 0) >= (p / 100) * total) return b * 1000;
  return NaN;
}

/**
 * The median of the first and of the last third of a series: a leak moves the second, the garbage collector's
 * sawtooth (heap used between 70 and 190 MiB on a 120 s soak, resident memory 380-430 MiB) does not, while a
 * single reading at the end lands anywhere on it.
 */
function thirds(series: number[]): { firstThirdBytes: number; lastThirdBytes: number } {
  const third = Math.max(1, Math.floor(series.length / 3));
  return { firstThirdBytes: median(series.slice(0, third)), lastThirdBytes: median(series.slice(-third)) };
}

async function main() {
  const started = Date.now();
  const work = await mkdtemp(path.join(os.tmpdir(), 'tvw-bench-'));
  await chmod(work, 0o755);
  log(`settings ${JSON.stringify(settings)}`);
  const db = await startEmbeddedPostgres({ dataDir: path.join(work, 'pg'), port: await freePort(), superuserPassword: randomBytes(24).toString('base64url'), logger: pino({ level: 'warn' }) });
  const admin = new pg.Client({ connectionString: db.adminUrl });
  await admin.connect();
  const dbUrl = (name: string) => Object.assign(new URL(db.adminUrl), { pathname: `/${name}` }).toString();
  for (const name of ['bench_pipeline', 'bench_monitored']) await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const receiver = await startReceiverThread();

  const root = projectRoot();
  const profileDir = path.join(root, 'bench', 'results', 'profiles');
  if (flags.profile) await mkdir(profileDir, { recursive: true });
  // The service runs as `npm start` runs it: its Node.js flags (the heap bound among them) are the shipped ones.
  const serviceArgs = [...(flags.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), ...(await readStartArgs(root))];
  const serviceEnv = async (mode: Mode) => {
    const dataDir = path.join(work, mode);
    await mkdir(dataDir, { recursive: true });
    return {
      ...BENCH_SERVICE_ENV, DATABASE_URL: dbUrl(`bench_${mode}`), DATA_DIR: dataDir,
      ...(mode === 'pipeline' ? { MONITORING_ENABLED: 'false' } : flags['no-export'] ? {} : { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint }),
    };
  };
  const children = {} as Record<Mode, Child>;
  // The monitored service's /metrics is on its operations listener (OPS_PORT), not the webhook port.
  const opsPorts = {} as Record<Mode, number>;
  for (const mode of MODES) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    opsPorts[mode] = await freePort();
    children[mode] = mode === 'express' || mode === 'fastify'
      ? await startChild(mode, [path.join(root, `dist/bench/${mode === 'express' ? 'baselineServer' : 'baselineFastify'}.js`)], { PORT: String(port) }, url)
      : await startChild(mode, serviceArgs, { ...(await serviceEnv(mode)), PORT: String(port), OPS_PORT: String(opsPorts[mode]) }, url);
    log(`${mode} ready at ${url} (pid ${children[mode].pid})`);
  }
  const monitored = children.monitored;
  const postmasterPid = await readPostmasterPid(db.clusterDir);
  const monitoredOps = `http://127.0.0.1:${opsPorts.monitored}`;
  const next = makeRequestMix();
  const body = () => next().body;
  const target = (mode: Mode) => `${children[mode].url}${WEBHOOK_PATH}`;
  let sentToMonitored = 0;
  const count = (mode: Mode, n: number) => {
    if (mode === 'monitored') sentToMonitored += n;
  };
  /** Waits until the monitored service's sink has written everything it buffered (the monitored run pays its own cost). */
  const drain = async (): Promise<number> => {
    const t0 = Date.now();
    while ((await scrapeSum(monitoredOps, 'monitoring_sink_buffer_records')) > 0 && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 50));
    return Date.now() - t0;
  };
  // Forward in even rounds, backward in odd ones: each service mode goes first as often as the other (given an even
  // number of rounds), so neither always inherits the other's aftermath (dirty pages, WAL, a busy disk). Until
  // 2026-11-29 the order rotated, and with three rounds the monitored service always ran right after the pipeline.
  const rotated = (round: number) => (round % 2 === 0 ? [...MODES] : [...MODES].reverse());
  const statsClients = Object.fromEntries(await Promise.all([...SERVICE_MODES].map(async (mode) => {
    const client = new pg.Client({ connectionString: dbUrl(`bench_${mode}`) });
    await client.connect();
    return [mode, client] as const;
  }))) as Record<Mode, pg.Client>;
  /**
   * ANALYZE the mode's database before it is measured. With the worker off the job queue grows by about 12,000 jobs
   * a phase, and graphile_worker.add_jobs keeps the plan it made while the queue was small: a sequential scan of
   * the jobs table in every batch. Postgres CPU per webhook then rose from 242 to 465 µs over six 4 s phases of
   * the pipeline, and stayed at 175-205 µs with an ANALYZE before each (it invalidates the plan). Autovacuum does
   * the same within its one-minute naptime once the table has grown by 10%; the bench's phases are shorter.
   */
  const refreshStatistics = async (mode: Mode) => {
    if (SERVICE_MODES.has(mode)) await statsClients[mode].query('ANALYZE');
  };

  const memoryStart = await monitored.rssBytes();
  log('warm-up');
  const warmup = {} as Record<Mode, number>;
  for (const mode of MODES) {
    // Steady state, as a service that runs for days: with the rounds' own 50 connections (with 10, the first
    // closed-loop round still opened the request pool's other connections, a Postgres backend and an authentication
    // each), for 6 s (after 3 s, the monitored service's first round still cost 1.2-1.5x its later rounds per
    // webhook, its V8 helper threads 3x: code still being optimised, the heap still growing to its working size).
    // Scraped every second meanwhile, as Prometheus scrapes a running service (the pipeline's operations listener
    // has no /metrics and answers 404). A service's first scrape deoptimises much of its webhook path: the scrape
    // runs the same Fastify, pg and prom-client code with other handlers and other shapes (--trace-deopt: 118
    // deoptimisations at the first scrape, after a warm-up without one; 4-10 at each later phase's end). When
    // only the bench's own scrape after the warm-up did that, the monitored service's first round paid to compile
    // its webhook path again: 264-336 µs of Node CPU a webhook against 211-261 in rounds 3-4, its V8 helper threads
    // 29-41 µs against 11-18. Scraped during the warm-up: 29 deoptimisations at its end, and the first round 26-27
    // µs above the mean of the third and fourth in four full runs; the pipeline's first round is dearer than its
    // later ones too.
    const scraping = SERVICE_MODES.has(mode) ? scrapeEvery(`http://127.0.0.1:${opsPorts[mode]}`, settings.warmupScrapeIntervalMs) : undefined;
    warmup[mode] = (await runClosed(target(mode), settings.connections, settings.warmupSeconds, body)).total;
    const scrapes = await scraping?.stop();
    count(mode, warmup[mode]);
    if (scraping) log(`warm-up ${mode}: ${scrapes} scrapes of /metrics answered 200`);
  }
  // With --profile, a process's profile covers its warm-up and its closed-loop rounds: these are its requests.
  log(`warm-up requests ${JSON.stringify(warmup)}`);
  await drain();

  const closed = Object.fromEntries(MODES.map((m) => [m, []])) as unknown as Record<Mode, ClosedResult[]>;
  const paced = Object.fromEntries(MODES.map((m) => [m, {}])) as unknown as Record<Mode, Record<number, PacedResult[]>>;
  /** CPU per 2xx answer during each closed-loop phase (µs): the server process, and Postgres (records drained). */
  const cpu = Object.fromEntries(MODES.map((m) => [m, []])) as unknown as Record<Mode, Array<{ nodeUs: number; postgresUs: number; byThread?: Record<string, number>; postgresByKind?: Record<string, number> }>>;
  for (let round = 0; round < settings.rounds; round += 1) {
    for (const mode of rotated(round)) {
      await refreshStatistics(mode);
      const node0 = await processCpuSeconds(children[mode].pid);
      const threads0 = await threadCpuSeconds(children[mode].pid);
      const pg0 = await postgresCpuSeconds(postmasterPid);
      const kinds0 = await postgresCpuByKind(postmasterPid);
      const r = await runClosed(target(mode), settings.connections, settings.closedSeconds, body);
      closed[mode].push(r);
      count(mode, r.total);
      // The phase's cost includes writing its records: the CPU is read a second later (the sink flushes every
      // 200 ms), for every mode alike. Not while polling /metrics: each scrape counts the job queue (about 100,000
      // jobs with the worker off), Postgres work that is the bench's, not the service's.
      await new Promise((r) => setTimeout(r, 1000));
      const accepted = Math.max(1, r.total - r.non2xx);
      const c = {
        nodeUs: ((await processCpuSeconds(children[mode].pid)) - node0) / accepted * 1e6,
        postgresUs: SERVICE_MODES.has(mode) ? ((await postgresCpuSeconds(postmasterPid)) - pg0) / accepted * 1e6 : 0,
      };
      const threads1 = await threadCpuSeconds(children[mode].pid);
      const kinds1 = await postgresCpuByKind(postmasterPid);
      const pgByKind = Object.fromEntries(Object.entries(kinds1).map(([k, t]) => [k, Math.round(((t - (kinds0[k] ?? 0)) / accepted) * 1e6)]).filter(([, us]) => us !== 0));
      const byThread = Object.fromEntries(Object.entries(threads1).map(([name, t]) => [name, Math.round(((t - (threads0[name] ?? 0)) / accepted) * 1e6)]));
      cpu[mode].push({ ...c, byThread, postgresByKind: pgByKind });
      const drainedMs = await drain();
      log(`round ${round + 1} closed ${mode}: ${Math.round(r.requestsPerSecond)} req/s (${r.errors} errors), CPU per 2xx: node ${Math.round(c.nodeUs)} µs ${JSON.stringify(byThread)}, postgres ${Math.round(c.postgresUs)} µs ${SERVICE_MODES.has(mode) ? JSON.stringify(pgByKind) : ''}${mode === 'monitored' ? `; records still buffered after the CPU was read: ${drainedMs} ms of draining` : ''}`);
    }
    for (const rate of flags['closed-only'] ? [] : settings.rates) {
      for (const mode of rotated(round)) {
        await refreshStatistics(mode);
        const r = await runPaced(target(mode), rate, rate === 1000 ? settings.targetRatePacedMs : settings.pacedMs, body);
        (paced[mode][rate] ??= []).push(r);
        count(mode, r.answered);
        log(`round ${round + 1} paced ${mode} ${rate}/s: p50 ${r.latencyMs.p50.toFixed(2)} p99 ${r.latencyMs.p99.toFixed(2)} ms (${r.errors} errors, statuses ${JSON.stringify(r.statuses)})`);
        await drain();
      }
    }
  }

  // Overload: twice the rate the monitored service sustained closed loop. Excess load must get a quick 503 with
  // Retry-After (TradingView resends) instead of waiting past TradingView's 3 s timeout; every 200 must be durable.
  const sustained = flags['overload-rate'] ? Number(flags['overload-rate']) / settings.overloadFactor : median(closed.monitored.map((r) => r.requestsPerSecond));
  const overloadRate = Math.round(sustained * settings.overloadFactor);
  log(`overload: monitored at ${overloadRate} req/s (${settings.overloadFactor} x ${Math.round(sustained)}) for ${settings.overloadMs / 1000} s`);
  const acceptedIds: string[] = [];
  await refreshStatistics('monitored');
  const countedBeforeOverload = await scrapeSum(monitoredOps, 'webhook_requests_total');
  const serverTimeBefore = await scrapeBuckets(monitoredOps, 'webhook_processing_duration_seconds');
  const overload = await runPaced(target('monitored'), overloadRate, settings.overloadMs, body, {
    onAnswer: (status, text) => {
      if (status !== 200) return;
      const id = (JSON.parse(text) as { signalId?: string }).signalId;
      if (id) acceptedIds.push(id);
    },
  });
  count('monitored', overload.answered);
  const countedInOverload = (await scrapeSum(monitoredOps, 'webhook_requests_total')) - countedBeforeOverload;
  // The service's own view (from receipt to answer, its histogram's bucket bounds): the rest of the latency the
  // generator measured was spent before the service read the request.
  const serverTimeAfter = await scrapeBuckets(monitoredOps, 'webhook_processing_duration_seconds');
  const serverMs = { p50: bucketPercentileMs(serverTimeBefore, serverTimeAfter, 50), p99: bucketPercentileMs(serverTimeBefore, serverTimeAfter, 99) };
  log(`overload: inside the service (receipt to answer, bucket bounds) p50 <= ${serverMs.p50} ms, p99 <= ${serverMs.p99} ms`);
  const latencies = (label: string, l: { n: number; p50: number; p99: number }) => `${label} ${l.n} p50 ${l.p50.toFixed(0)} p99 ${l.p99.toFixed(0)} ms`;
  for (const w of overload.timeline) {
    const kinds = [latencies('reused connections', w.reused), latencies('new connections', w.opened), latencies('waited in the generator for a connection', w.queued)];
    log(`overload ${w.fromMs} ms: ${w.answers} answers, ${w.unavailable} 503; ${kinds.join('; ')}`);
  }
  log(`overload: p50 ${overload.latencyMs.p50.toFixed(1)} p99 ${overload.latencyMs.p99.toFixed(1)} ms, statuses ${JSON.stringify(overload.statuses)}, ${overload.errors} errors; the generator sent late by p50 ${overload.sendLagMs.p50.toFixed(1)}, p99 ${overload.sendLagMs.p99.toFixed(1)} ms`);
  await drain();

  await refreshStatistics('monitored');
  log(`soak: monitored at ${settings.soakRate} req/s for ${settings.soakSeconds} s`);
  const memoryAfterWarmup = await monitored.rssBytes();
  let peak = memoryAfterWarmup;
  let peakBuffered = 0;
  // Every 5 s: resident memory and the V8 heap in use, to tell a leak (the heap grows) from a heap that was
  // sized up by the overload phase and is not returned to the system (resident memory alone grows).
  const memorySeries: Array<{ atSeconds: number; rssMiB: number; heapUsedMiB: number; heapAfterGcBytes: number; majorGcs: number }> = [];
  const majorGcsBefore = await scrapeSum(monitoredOps, 'nodejs_gc_duration_seconds_count', 'kind="major"');
  const soakStarted = Date.now();
  let ticks = 0;
  const sampler = setInterval(() => {
    monitored.rssBytes().then((b) => (peak = Math.max(peak, b)), () => undefined);
    if (ticks++ % 5 === 0) {
      Promise.all([
        monitored.rssBytes(), scrapeSum(monitoredOps, 'nodejs_heap_size_used_bytes'), scrapeSum(monitoredOps, 'nodejs_heap_used_after_major_gc_bytes'),
        scrapeSum(monitoredOps, 'nodejs_gc_duration_seconds_count', 'kind="major"'),
      ]).then(([rss, heap, heapAfterGcBytes, majorGcs]) => {
        memorySeries.push({ atSeconds: Math.round((Date.now() - soakStarted) / 1000), rssMiB: Math.round(rss / 1048576), heapUsedMiB: Math.round(heap / 1048576), heapAfterGcBytes, majorGcs });
      }, () => undefined);
    }
    scrapeSum(monitoredOps, 'monitoring_sink_buffer_records').then((n) => (peakBuffered = Math.max(peakBuffered, n)), () => undefined);
  }, 1000);
  const soak = await runPaced(target('monitored'), settings.soakRate, settings.soakSeconds * 1000, body);
  clearInterval(sampler);
  count('monitored', soak.answered);
  const drainMs = await drain();
  log(`soak memory (s: resident / V8 heap used / after the latest major collection, MiB; major collections): ${memorySeries.map((m) => `${m.atSeconds}: ${m.rssMiB} / ${m.heapUsedMiB} / ${Math.round(m.heapAfterGcBytes / 1048576)}; ${m.majorGcs - majorGcsBefore}`).join(', ')}`);
  await new Promise((r) => setTimeout(r, 2000));
  const memoryEnd = await monitored.rssBytes();

  const monitoredDb = new pg.Client({ connectionString: dbUrl('bench_monitored') });
  await monitoredDb.connect();
  const recordsWritten = (await monitoredDb.query('SELECT count(*)::int AS n FROM webhook_requests')).rows[0].n as number;
  const stageRecords = (await monitoredDb.query('SELECT coalesce(sum(json_array_length(stages::json)), 0)::int AS n FROM webhook_requests')).rows[0].n as number;
  const distinctIds = [...new Set(acceptedIds)];
  const durable = (await monitoredDb.query('SELECT count(*)::int AS n FROM signals WHERE id = ANY($1::uuid[])', [distinctIds])).rows[0].n as number;
  await monitoredDb.end();
  const fidelity = {
    requestsAnswered: await scrapeSum(monitoredOps, 'webhook_requests_total'),
    requestsSentByBench: sentToMonitored,
    recordsWritten,
    dropped: await scrapeSum(monitoredOps, 'monitoring_sink_records_total', 'outcome="dropped"'),
    failed: await scrapeSum(monitoredOps, 'monitoring_sink_records_total', 'outcome="failed"'),
    rateLimited: await scrapeSum(monitoredOps, 'monitoring_sink_records_total', 'outcome="rate_limited"'),
    peakBufferedRecords: peakBuffered,
    drainMs,
    spansExpected: recordsWritten + stageRecords,
    spansExported: 0,
    // What the exporter counted as not delivered before it was stopped: a miss above is explained by these, or else
    // by the spans given up when the stop's flush ran out of time.
    exportDroppedSpans: await scrapeSum(monitoredOps, 'trace_export_dropped_spans_total'),
    exportFailedSpans: await scrapeSum(monitoredOps, 'trace_export_failures_total'),
  };

  // Stopping flushes the monitored service's exporter: its spans are all at the receiver after this.
  for (const client of Object.values(statsClients)) await client.end();
  for (const mode of MODES) await children[mode].stop();
  const receiverStats = await receiver.stats();
  fidelity.spansExported = receiverStats.spans;
  await receiver.close();
  await db.stop();
  await rm(work, { recursive: true, force: true });

  const summary: Summary = {
    throughput: Object.fromEntries(MODES.map((m) => [m, median(closed[m].map((r) => r.requestsPerSecond))])),
    latency: Object.fromEntries(MODES.map((m) => [m, Object.fromEntries(settings.rates.map((rate) => {
      const rs = paced[m][rate] ?? [];
      return [String(rate), { p50: median(rs.map((r) => r.latencyMs.p50)), p95: median(rs.map((r) => r.latencyMs.p95)), p99: median(rs.map((r) => r.latencyMs.p99)), max: median(rs.map((r) => r.latencyMs.max)) }];
    }))])),
    memory: { startBytes: memoryStart, afterWarmupBytes: memoryAfterWarmup, peakBytes: peak, endBytes: memoryEnd, ...thirds(memorySeries.map((m) => m.rssMiB * 1048576)), heapAfterMajorGc: heapAfterMajorGcs(memorySeries, majorGcsBefore) },
    fidelity,
    cpuUs: Object.fromEntries(MODES.map((m) => [m, { node: median(cpu[m].map((c) => c.nodeUs)), postgres: median(cpu[m].map((c) => c.postgresUs)) }])),
    refusedByRate: Object.fromEntries(MODES.map((m) => [m, Object.fromEntries(settings.rates.map((rate) => [String(rate), (paced[m][rate] ?? []).reduce((n, r) => n + (r.statuses['503'] ?? 0), 0)]))])),
    overload: {
      sustainedPerSecond: sustained,
      rate: overloadRate,
      latencyMs: overload.latencyMs,
      timeline: overload.timeline,
      byStatus: overload.byStatus,
      statuses: overload.statuses,
      errors: overload.errors,
      unavailable: overload.statuses['503'] ?? 0,
      unavailableWithRetryAfter: overload.withRetryAfter,
      ok: acceptedIds.length,
      okDurable: durable,
      okDistinct: distinctIds.length,
      counted: countedInOverload,
      serverMs,
      answered: overload.answered,
    },
  };
  const checks = checkTargets(summary);
  printReport(summary, checks, settings.rates);
  const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryBytes: os.totalmem(), node: process.version, kernel: os.release(), platform: os.platform() };
  const result = { at: new Date().toISOString(), quick, settings, machine, summary, checks, soak, memorySeries, overload, receiver: receiverStats, rounds: { closed, paced, cpu }, elapsedSeconds: Math.round((Date.now() - started) / 1000) };
  const dir = path.join(root, 'bench', 'results');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${result.at.replace(/[:.]/g, '-')}${quick || flags['closed-only'] || flags['overload-rate'] ? '-quick' : ''}.json`);
  await writeFile(file, JSON.stringify(result, null, 2) + '\n');
  log(`wrote ${path.relative(root, file)} (${result.elapsedSeconds} s in all)`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
