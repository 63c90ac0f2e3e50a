import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { BENCH_SECRET } from './requestMix.js';

/**
 * The node arguments of `npm start` in the checkout at `root` (its package.json), its dist/ paths made absolute:
 * a service under measurement runs with its shipped Node.js flags (the heap bound among them).
 */
export async function readStartArgs(root: string): Promise<string[]> {
  const script = (JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  return script.split('&&').at(-1)!.trim().split(/\s+/).slice(1).map((word) => (/^(\.\/)?dist\//.test(word) ? path.join(root, word) : word));
}

/**
 * The settings every measured service gets. Benchmarks come from one address: the per-IP limit would refuse
 * them. The worker is off so the figures are the webhook path alone (signals are queued, not executed). Every
 * rejected request's record is kept (no MONITORING_REJECTED_PER_MINUTE bound): the most the sink can be asked to
 * write.
 */
export const BENCH_SERVICE_ENV = {
  HOST: '127.0.0.1',
  LOG_LEVEL: 'warn',
  WEBHOOK_SECRETS: BENCH_SECRET,
  ADMIN_TOKEN: 'bench-admin-token-0123456789',
  RATE_LIMIT_PER_MINUTE: '0',
  WORKER_ENABLED: 'false',
  MONITORING_REJECTED_PER_MINUTE: '0',
  MONITORING_REJECTED_PER_CLIENT_PER_MINUTE: '0',
} as const;
