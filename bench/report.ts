import { round } from './stats.js';

export interface Summary {
  throughput: Record<string, number>;
  latency: Record<string, Record<string, { p50: number; p95: number; p99: number; max: number }>>;
  memory: { startBytes: number; afterWarmupBytes: number; peakBytes: number; endBytes: number };
  fidelity: { requestsAnswered: number; recordsWritten: number; dropped: number; failed: number; rateLimited: number; peakBufferedRecords: number; drainMs: number };
}

export interface Check {
  name: string;
  target: string;
  value: number;
  ok: boolean;
}

/** The ratios the benchmark exists for, each against the target the README states. */
export function checkTargets(s: Summary): Check[] {
  const p50 = (mode: string) => s.latency[mode]?.['1000']?.p50 ?? NaN;
  const addedP50 = p50('monitored') - p50('pipeline');
  const overheadThroughput = s.throughput.monitored! / s.throughput.pipeline!;
  const pipelineCost = s.throughput.monitored! / s.throughput.baseline!;
  const p99 = s.latency.monitored?.['1000']?.p99 ?? NaN;
  const memory = s.memory.endBytes / s.memory.afterWarmupBytes;
  return [
    { name: 'monitoring overhead: added p50 at 1,000 req/s (ms)', target: '<= 1', value: round(addedP50, 3), ok: addedP50 <= 1 },
    { name: 'monitoring overhead: monitored / pipeline throughput', target: '>= 0.90', value: round(overheadThroughput, 3), ok: overheadThroughput >= 0.9 },
    { name: 'pipeline cost: monitored / baseline throughput', target: '>= 0.50', value: round(pipelineCost, 3), ok: pipelineCost >= 0.5 },
    { name: 'latency: monitored p99 at 1,000 req/s (ms)', target: '<= 25', value: round(p99, 2), ok: p99 <= 25 },
    { name: 'memory: RSS end of soak / after warm-up', target: '<= 1.10', value: round(memory, 3), ok: memory <= 1.1 },
    { name: 'fidelity: records written - requests answered', target: '== 0', value: s.fidelity.recordsWritten - s.fidelity.requestsAnswered, ok: s.fidelity.recordsWritten === s.fidelity.requestsAnswered },
    { name: 'fidelity: sink drops (dropped + failed)', target: '== 0', value: s.fidelity.dropped + s.fidelity.failed, ok: s.fidelity.dropped + s.fidelity.failed === 0 },
  ];
}

const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;

export function printReport(s: Summary, checks: Check[], rates: number[]): void {
  const modes = Object.keys(s.throughput);
  const lines: string[] = [];
  lines.push('', 'closed loop (50 connections), median of rounds:');
  for (const m of modes) lines.push(`  ${m.padEnd(10)} ${Math.round(s.throughput[m]!).toString().padStart(7)} req/s`);
  lines.push('', 'open loop, evenly paced, latency from scheduled send time (ms), median of rounds:');
  lines.push(`  ${'mode'.padEnd(10)} ${'rate'.padStart(6)} ${'p50'.padStart(8)} ${'p95'.padStart(8)} ${'p99'.padStart(8)} ${'max'.padStart(8)}`);
  for (const rate of rates) {
    for (const m of modes) {
      const l = s.latency[m]?.[String(rate)];
      if (!l) continue;
      lines.push(`  ${m.padEnd(10)} ${String(rate).padStart(6)} ${l.p50.toFixed(2).padStart(8)} ${l.p95.toFixed(2).padStart(8)} ${l.p99.toFixed(2).padStart(8)} ${l.max.toFixed(2).padStart(8)}`);
    }
  }
  lines.push('', `memory (monitored service RSS): start ${mb(s.memory.startBytes)}, after warm-up ${mb(s.memory.afterWarmupBytes)}, peak ${mb(s.memory.peakBytes)}, end ${mb(s.memory.endBytes)}`);
  const f = s.fidelity;
  lines.push(`records: ${f.recordsWritten} written for ${f.requestsAnswered} requests answered; dropped ${f.dropped}, failed ${f.failed}, rate_limited ${f.rateLimited}; sink peak buffer ${f.peakBufferedRecords} records, drained ${f.drainMs} ms after the soak`);
  lines.push('', 'monitoring overhead at each rate (monitored minus pipeline, ms):');
  for (const rate of rates) {
    const m = s.latency.monitored?.[String(rate)];
    const p = s.latency.pipeline?.[String(rate)];
    if (m && p) lines.push(`  ${String(rate).padStart(6)}/s: p50 ${(m.p50 - p.p50).toFixed(2)}, p99 ${(m.p99 - p.p99).toFixed(2)}`);
  }
  lines.push('', 'targets:');
  for (const c of checks) lines.push(`  ${c.ok ? 'ok  ' : 'MISS'} ${c.name}: ${c.value} (target ${c.target})`);
  console.log(lines.join('\n'));
}
