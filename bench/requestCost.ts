import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { mkdir, writeFile } from 'node:fs/promises';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { Session } from 'node:inspector/promises';
import { startTestServer, stopTestServer } from '../tests/support/testDatabase.js';
import { startTestService } from '../tests/support/startTestService.js';
import { BENCH_SECRET } from './requestMix.js';
import { startReceiverThread } from './startReceiverThread.js';

/**
 * What one webhook costs the service's process, measured without the rest of the bench on the machine: the
 * service runs in this process (its own database, OTLP export to a receiver thread), the sender (requestSender.ts,
 * the bench's mix of requests) in another. After a 2 s warm-up, for each mode in turn (alternating over rounds):
 * CPU per request answered, of the process and of its
 * main thread (and that thread's system time), the collections V8 made, and with --allocations the bytes
 * allocated per request by function (V8's sampling heap profiler, counting what the collector has freed too).
 *
 *   node dist/bench/requestCost.js                         # pipeline and monitored, 2 rounds of 8 s closed loop
 *   node dist/bench/requestCost.js --refuse                # every request refused before its body (403, as a 503)
 *   node dist/bench/requestCost.js --rate 1000 --modes monitored --allocations
 *   node dist/bench/requestCost.js --profile /tmp/prof      # also a V8 CPU profile of each mode and round
 *   node dist/bench/requestCost.js --rate 1000 --allocations --promoted   # what outlived the young generation
 */
const { values: flags } = parseArgs({
  options: {
    modes: { type: 'string', default: 'pipeline,monitored' },
    seconds: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '2' },
    rate: { type: 'string', default: '0' },
    refuse: { type: 'boolean', default: false },
    allocations: { type: 'boolean', default: false },
    // With --allocations: only what outlived the young generation (promoted, or still alive at the end).
    promoted: { type: 'boolean', default: false },
    profile: { type: 'string', default: '' },
  },
});
const modes = flags.modes.split(',');
const sender = fileURLToPath(new URL('./requestSender.js', import.meta.url));

/** Runs the sender for `seconds`, its mix going on after `start` requests; resolves with the requests answered. */
function sendRequests(url: string, seconds: number, start: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [sender, url, String(seconds), flags.rate, String(start)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('exit', (code) => (code === 0 ? resolve((JSON.parse(out) as { answered: number }).answered) : reject(new Error(`sender exited with ${code}`))));
  });
}

interface HeapNode { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: HeapNode[] }

function allocationsByFunction(head: HeapNode): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (node: HeapNode) => {
    const cf = node.callFrame;
    const key = `${cf.functionName || '(anonymous)'} ${cf.url.replace(/.*node_modules\//, '').replace(/.*\/dist\//, '')}:${cf.lineNumber + 1}`;
    out.set(key, (out.get(key) ?? 0) + node.selfSize);
    for (const c of node.children) walk(c);
  };
  walk(head);
  return out;
}

async function measure(mode: string, round: number): Promise<void> {
  const receiver = await startReceiverThread();
  const svc = await startTestService({
    WEBHOOK_SECRETS: BENCH_SECRET,
    MONITORING_ENABLED: String(mode === 'monitored'),
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    MONITORING_REJECTED_PER_MINUTE: '0',
    MONITORING_REJECTED_PER_CLIENT_PER_MINUTE: '0',
    ...(flags.refuse ? { IP_ALLOWLIST: '192.0.2.0/24' } : {}),
  });
  const url = `${svc.url}/api/webhooks/tradingview`;
  try {
    const warmup = await sendRequests(url, 2, round * 1_000_000);
    const gc = { minor: { n: 0, ms: 0 }, major: { n: 0, ms: 0 } };
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
        const g = kind === constants.NODE_PERFORMANCE_GC_MINOR ? gc.minor : kind === constants.NODE_PERFORMANCE_GC_MAJOR ? gc.major : undefined;
        if (g) {
          g.n += 1;
          g.ms += e.duration;
        }
      }
    });
    observer.observe({ entryTypes: ['gc'] });
    const session = new Session();
    session.connect();
    if (flags.allocations) {
      await session.post('HeapProfiler.enable');
      // --promoted: what a scavenge did not free, including what a major collection freed later (promoted garbage,
      // the cost of major collections); leaving those out too counted only what was still alive at the end.
      await session.post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: !flags.promoted } as never);
    }
    if (flags.profile) {
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 200 });
      await session.post('Profiler.start');
    }
    const process0 = process.cpuUsage();
    const main0 = process.threadCpuUsage();
    const requests = await sendRequests(url, Number(flags.seconds), round * 1_000_000 + warmup);
    const cpu = process.cpuUsage(process0);
    const main = process.threadCpuUsage(main0);
    const profile = flags.allocations ? ((await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: HeapNode } }).profile : undefined;
    if (flags.profile) {
      const { profile: cpu } = await session.post('Profiler.stop');
      const file = `${flags.profile}/${mode}-${round + 1}-${requests}.cpuprofile`;
      await writeFile(file, JSON.stringify(cpu));
      console.log(`  CPU profile: ${file} (node dist/bench/summariseProfile.js ${file} ${requests})`);
    }
    session.disconnect();
    await new Promise((r) => setTimeout(r, 50));
    observer.disconnect();
    const us = (x: number) => (x / requests).toFixed(0).padStart(4);
    console.log(
      `round ${round + 1} ${mode.padEnd(9)} CPU per request: process ${us(cpu.user + cpu.system)} µs, main thread ${us(main.user + main.system)} µs (system ${us(main.system)});` +
        ` GC: ${gc.minor.n} minor ${gc.minor.ms.toFixed(0)} ms, ${gc.major.n} major ${gc.major.ms.toFixed(0)} ms`,
    );
    if (profile) {
      const byFunction = allocationsByFunction(profile.head);
      const total = [...byFunction.values()].reduce((a, b) => a + b, 0);
      console.log(`  allocated ${(total / requests / 1024).toFixed(1)} KiB a request; by function (bytes a request):`);
      for (const [name, bytes] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${(bytes / requests).toFixed(0).padStart(7)}  ${name}`);
    }
  } finally {
    await svc.close();
    await receiver.close();
  }
}

if (flags.profile) await mkdir(flags.profile, { recursive: true });
await startTestServer();
try {
  for (let round = 0; round < Number(flags.rounds); round += 1) {
    for (const mode of round % 2 ? [...modes].reverse() : modes) await measure(mode, round);
  }
} finally {
  await stopTestServer();
}
