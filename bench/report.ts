import type { PacedResult } from './pacedLoad.js';
import { round } from './stats.js';

export interface OverloadSummary {
  sustainedPerSecond: number;
  rate: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  byStatus: Record<string, { p50: number; p99: number; max: number }>;
  timeline: PacedResult['timeline'];
  statuses: Record<string, number>;
  errors: number;
  unavailable: number;
  unavailableWithRetryAfter: number;
  /** 200 answers, and how many of their signals are in the database after the phase. */
  ok: number;
  okDurable: number;
  okDistinct: number;
  /** webhook_requests_total's increase over the phase, and the answers the bench got in it. */
  counted: number;
  answered: number;
  /** Receipt to answer inside the service (bucket bounds of webhook_processing_duration_seconds). */
  serverMs: { p50: number; p99: number };
}

export interface Summary {
  throughput: Record<string, number>;
  latency: Record<string, Record<string, { p50: number; p95: number; p99: number; max: number }>>;
  memory: { startBytes: number; afterWarmupBytes: number; peakBytes: number; endBytes: number; firstThirdBytes: number; lastThirdBytes: number; heapAfterMajorGc: { first: number; last: number; majorGcs: number } };
  fidelity: {
    requestsAnswered: number;
    requestsSentByBench: number;
    recordsWritten: number;
    dropped: number;
    failed: number;
    rateLimited: number;
    peakBufferedRecords: number;
    drainMs: number;
    /** Spans a whole trace per record makes (its root and one per stage), and spans the receiver got. */
    spansExpected: number;
    spansExported: number;
    /** Spans the exporter dropped at its queue's bound, and spans it failed to deliver, by its own counters before the stop. */
    exportDroppedSpans?: number;
    exportFailedSpans?: number;
  };
  /** CPU per 2xx answer in the closed-loop phase (µs, median of rounds): the server process and Postgres. */
  cpuUs: Record<string, { node: number; postgres: number }>;
  overload: OverloadSummary;
  /** 503 answers (refused as overloaded) at each paced rate, all rounds: load shedding must not refuse what the service can take. */
  refusedByRate: Record<string, Record<string, number>>;
}

export interface Check {
  name: string;
  target: string;
  value: number;
  ok: boolean;
}

const cpuTotal = (s: Summary, mode: string) => (s.cpuUs[mode]?.node ?? NaN) + (s.cpuUs[mode]?.postgres ?? NaN);

/** The targets of issue 13, each against the figure of this one run. */
export function checkTargets(s: Summary): Check[] {
  const at1000 = (mode: string) => s.latency[mode]?.['1000'] ?? { p50: NaN, p99: NaN };
  const addedP50 = at1000('monitored').p50 - at1000('pipeline').p50;
  const p99Ratio = at1000('monitored').p99 / at1000('pipeline').p99;
  const throughput = s.throughput.monitored! / s.throughput.pipeline!;
  const cpuAdded = cpuTotal(s, 'monitored') / cpuTotal(s, 'pipeline') - 1;
  const memory = s.memory.lastThirdBytes / s.memory.firstThirdBytes;
  const heldAfterGc = s.memory.heapAfterMajorGc.last / s.memory.heapAfterMajorGc.first;
  const o = s.overload;
  const f = s.fidelity;
  return [
    { name: 'throughput: monitored / pipeline, closed loop', target: '>= 0.85 (stretch 0.95)', value: round(throughput, 3), ok: throughput >= 0.85 },
    { name: 'CPU per accepted webhook: added by monitoring (node + postgres)', target: '<= 0.20', value: round(cpuAdded, 3), ok: cpuAdded <= 0.2 },
    { name: 'latency at 1,000 req/s: monitored p50 - pipeline p50 (ms)', target: '<= 1', value: round(addedP50, 3), ok: addedP50 <= 1 },
    { name: 'latency at 1,000 req/s: monitored p99 / pipeline p99', target: '<= 1.5', value: round(p99Ratio, 3), ok: p99Ratio <= 1.5 },
    { name: 'at 1,000 req/s: webhooks refused as overloaded (503), monitored', target: '== 0', value: s.refusedByRate.monitored?.['1000'] ?? NaN, ok: (s.refusedByRate.monitored?.['1000'] ?? NaN) === 0 },
    { name: `overload (${o.rate} req/s): p99 of all answers (ms)`, target: '<= 1000', value: round(o.latencyMs.p99, 1), ok: o.latencyMs.p99 <= 1000 && o.errors === 0 },
    { name: 'overload: 503 answers without Retry-After', target: '== 0', value: o.unavailable - o.unavailableWithRetryAfter, ok: o.unavailable === o.unavailableWithRetryAfter },
    { name: 'overload: 200 answers whose signal is not in the database', target: '== 0', value: o.okDistinct - o.okDurable, ok: o.okDistinct === o.okDurable },
    { name: 'memory: RSS over the soak, median of its last third / of its first third', target: '<= 1.10', value: round(memory, 3), ok: memory <= 1.1 },
    // NaN (missed) when no major collection came during the soak: nothing to compare.
    { name: `memory: V8 heap after a major collection, end of the soak / its start (${s.memory.heapAfterMajorGc.majorGcs} in the soak)`, target: '<= 1.10', value: round(heldAfterGc, 3), ok: heldAfterGc <= 1.1 },
    { name: 'fidelity: records written - requests answered (counter)', target: '== 0', value: f.recordsWritten - f.requestsAnswered, ok: f.recordsWritten === f.requestsAnswered },
    { name: 'fidelity: overload phase, counter increase - answers the bench got', target: '== 0', value: o.counted - o.answered, ok: o.counted === o.answered },
    { name: 'fidelity: sink drops (dropped + failed)', target: '== 0', value: f.dropped + f.failed, ok: f.dropped + f.failed === 0 },
    { name: 'fidelity: spans exported - (records + their stages)', target: '== 0', value: f.spansExported - f.spansExpected, ok: f.spansExported === f.spansExpected },
  ];
}

const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;

export function printReport(s: Summary, checks: Check[], rates: number[]): void {
  const modes = Object.keys(s.throughput);
  const lines: string[] = [];
  lines.push('', 'closed loop (50 connections), median of rounds; CPU per 2xx answer from /proc:');
  lines.push(`  ${'mode'.padEnd(10)} ${'req/s'.padStart(7)} ${'node µs'.padStart(9)} ${'pg µs'.padStart(9)} ${'total µs'.padStart(9)}`);
  for (const m of modes) {
    const c = s.cpuUs[m];
    const cell = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : String(Math.round(x))).padStart(9);
    lines.push(`  ${m.padEnd(10)} ${Math.round(s.throughput[m]!).toString().padStart(7)} ${cell(c?.node)} ${cell(c?.postgres)} ${cell(cpuTotal(s, m))}`);
  }
  lines.push('', 'open loop, evenly paced, latency from scheduled send time (ms), median of rounds:');
  lines.push(`  ${'mode'.padEnd(10)} ${'rate'.padStart(6)} ${'p50'.padStart(8)} ${'p95'.padStart(8)} ${'p99'.padStart(8)} ${'max'.padStart(8)}`);
  for (const rate of rates) {
    for (const m of modes) {
      const l = s.latency[m]?.[String(rate)];
      if (!l) continue;
      lines.push(`  ${m.padEnd(10)} ${String(rate).padStart(6)} ${l.p50.toFixed(2).padStart(8)} ${l.p95.toFixed(2).padStart(8)} ${l.p99.toFixed(2).padStart(8)} ${l.max.toFixed(2).padStart(8)}`);
    }
  }
  const o = s.overload;
  lines.push('', `overload: monitored at ${o.rate} req/s (2 x ${Math.round(o.sustainedPerSecond)} sustained closed loop): p50 ${o.latencyMs.p50.toFixed(1)}, p99 ${o.latencyMs.p99.toFixed(1)}, max ${o.latencyMs.max.toFixed(1)} ms; ${o.errors} errors`);
  for (const [status, l] of Object.entries(o.byStatus)) lines.push(`  ${status}: ${o.statuses[status]} answers, p50 ${l.p50.toFixed(1)}, p99 ${l.p99.toFixed(1)} ms`);
  lines.push(`  inside the service (receipt to answer): p50 <= ${o.serverMs.p50} ms, p99 <= ${o.serverMs.p99} ms`);
  lines.push(`  503 with Retry-After: ${o.unavailableWithRetryAfter} of ${o.unavailable}; 200 answers ${o.ok}, their signals in the database ${o.okDurable} of ${o.okDistinct}`);
  lines.push('', `memory (monitored service RSS): start ${mb(s.memory.startBytes)}, after warm-up ${mb(s.memory.afterWarmupBytes)}, peak ${mb(s.memory.peakBytes)}, end ${mb(s.memory.endBytes)}; soak medians: first third ${mb(s.memory.firstThirdBytes)}, last third ${mb(s.memory.lastThirdBytes)}; V8 heap after the latest major collection: at the soak's start ${mb(s.memory.heapAfterMajorGc.first)}, at its end ${mb(s.memory.heapAfterMajorGc.last)} (${s.memory.heapAfterMajorGc.majorGcs} major collections in the soak)`);
  const f = s.fidelity;
  lines.push(`records: ${f.recordsWritten} written for ${f.requestsAnswered} requests answered (the bench got ${f.requestsSentByBench} answers); dropped ${f.dropped}, failed ${f.failed}, rate_limited ${f.rateLimited}; sink peak buffer ${f.peakBufferedRecords} records, drained ${f.drainMs} ms after the soak`);
  lines.push(`spans: ${f.spansExported} exported for ${f.spansExpected} expected (each record's root and stages); the exporter counted ${f.exportDroppedSpans ?? '?'} dropped at its queue's bound and ${f.exportFailedSpans ?? '?'} failed`);
  lines.push('', 'monitoring overhead at each rate (monitored minus pipeline, ms):');
  for (const rate of rates) {
    const m = s.latency.monitored?.[String(rate)];
    const p = s.latency.pipeline?.[String(rate)];
    if (m && p) lines.push(`  ${String(rate).padStart(6)}/s: p50 ${(m.p50 - p.p50).toFixed(2)}, p99 ${(m.p99 - p.p99).toFixed(2)}`);
  }
  const fastify = s.throughput.fastify;
  const express = s.throughput.express;
  if (fastify && express) lines.push('', `frameworks: bare Fastify / bare Express ${round(fastify / express, 2)}; pipeline / bare Fastify ${round(s.throughput.pipeline! / fastify, 2)}; monitored / bare Fastify ${round(s.throughput.monitored! / fastify, 2)}`);
  lines.push('', 'targets:');
  for (const c of checks) lines.push(`  ${c.ok ? 'met   ' : 'MISSED'} ${c.name}: ${c.value} (target ${c.target})`);
  console.log(lines.join('\n'));
}
