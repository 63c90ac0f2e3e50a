import assert from 'node:assert/strict';
import client from 'prom-client';
import { makeFastObserver } from '../src/telemetry/makeFastObserver.js';

/** The exposition text of a metric with its name replaced, to compare two histograms line by line. */
async function textOf(registry: client.Registry, name: string): Promise<string> {
  return (await registry.getSingleMetricAsString(name)).replaceAll(name, 'h');
}

describe('makeFastObserver: a histogram observed through it reads exactly as one observed by prom-client', () => {
  it('gives the same buckets, sum and count for every value (bounds, above the last, zero, negative), per label set, across a reset', async () => {
    const registry = new client.Registry();
    const buckets = [0.001, 0.01, 0.1, 1];
    const fast = new client.Histogram({ name: 'fast_seconds', help: 'x', labelNames: ['stage', 'status'], buckets, registers: [registry] });
    const slow = new client.Histogram({ name: 'slow_seconds', help: 'x', labelNames: ['stage', 'status'], buckets, registers: [registry] });
    const sets = [{ stage: 'received', status: 'completed' }, { stage: 'deciding', status: 'failed' }];
    const observers = sets.map((labels) => makeFastObserver(fast, labels));
    const values = [0, 0.001, 0.0005, 0.01, 0.05, 0.1, 1, 1.5, 42, -1, 0.1000001];
    const observeAll = () => {
      for (let i = 0; i < 200; i += 1) {
        const value = values[i % values.length]! * (1 + (i % 7) / 100);
        const set = i % 3 === 0 ? 1 : 0;
        observers[set]!(value);
        slow.labels(sets[set]!).observe(value);
      }
    };
    observeAll();
    assert.equal(await textOf(registry, 'fast_seconds'), await textOf(registry, 'slow_seconds'));
    assert.match(await textOf(registry, 'fast_seconds'), /h_count\{stage="received",status="completed"\} 133/);
    registry.resetMetrics();
    observeAll();
    assert.equal(await textOf(registry, 'fast_seconds'), await textOf(registry, 'slow_seconds'));
  });

  it('works for a histogram without labels', async () => {
    const registry = new client.Registry();
    const fast = new client.Histogram({ name: 'fast_bytes', help: 'x', buckets: [10, 100], registers: [registry] });
    const slow = new client.Histogram({ name: 'slow_bytes', help: 'x', buckets: [10, 100], registers: [registry] });
    const observe = makeFastObserver(fast, {});
    for (const v of [1, 10, 11, 100, 1000, 5]) {
      observe(v);
      slow.observe(v);
    }
    assert.equal(await textOf(registry, 'fast_bytes'), await textOf(registry, 'slow_bytes'));
  });
});
