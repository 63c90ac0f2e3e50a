import { readFile } from 'node:fs/promises';

/**
 * `node dist/bench/summariseProfile.js <file.cpuprofile> [requests]`: a V8 CPU profile's self time grouped by
 * part (our source folders, the libraries, Node's internals), in ms and, given the requests the profile served,
 * in µs per request. Used to find where monitoring spends its time (docs/benchmarks.md).
 */
interface Node { id: number; callFrame: { functionName: string; url: string }; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[] }

const PARTS: Array<[RegExp, string]> = [
  [/\/src\/telemetry\//, 'ours: telemetry'],
  [/\/src\/pipeline\//, 'ours: pipeline'],
  [/\/src\/http\//, 'ours: http edge'],
  [/\/src\//, 'ours: other'],
  [/@opentelemetry\/(sdk-trace|core|api|resources|sdk-node)/, 'opentelemetry sdk'],
  [/@opentelemetry\/(otlp|exporter)/, 'opentelemetry exporter'],
  [/protobufjs/, 'opentelemetry exporter'],
  [/prom-client/, 'prom-client'],
  [/\/pg(-protocol|-pool|-types)?\//, 'pg driver'],
  [/fastify|find-my-way|light-my-request|avvio|@fastify/, 'fastify'],
  [/pino|sonic-boom/, 'pino'],
  [/node_modules/, 'other libraries'],
  [/^node:/, 'node internals'],
];

function partOf(node: Node): string {
  const { url, functionName } = node.callFrame;
  if (!url) return functionName.startsWith('(') ? functionName : `builtin ${functionName || '(anonymous)'}`.replace(/^builtin (JSON\.\w+|stringify|parse).*/, 'builtin JSON');
  for (const [re, name] of PARTS) if (re.test(url)) return name;
  return 'other';
}

const [file, requestsArg] = process.argv.slice(2);
const profile = JSON.parse(await readFile(file!, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const totals = new Map<string, number>();
let all = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const node = byId.get(profile.samples[i]!)!;
  const us = profile.timeDeltas[i] ?? 0;
  const part = partOf(node);
  totals.set(part, (totals.get(part) ?? 0) + us);
  if (part !== '(idle)') all += us;
}
const requests = Number(requestsArg ?? 0);
console.log(`busy ${(all / 1000).toFixed(0)} ms${requests ? `, ${requests} requests, ${(all / requests).toFixed(0)} µs per request` : ''}`);
for (const [part, us] of [...totals].sort((a, b) => b[1] - a[1])) {
  if (part === '(idle)') continue;
  console.log(`  ${part.padEnd(28)} ${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / all).toFixed(1).padStart(5)}%${requests ? ` ${(us / requests).toFixed(1).padStart(7)} µs/req` : ''}`);
}
