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

describe('makeFastObserver with exemplars: each bucket shows its latest observation and trace id, as prom-client shows them', () => {
  /** OpenMetrics text with the metric's name replaced and exemplar timestamps removed (they differ by clock). */
  async function openMetricsOf(registry: client.Registry, name: string): Promise<string> {
    return (await registry.getSingleMetricAsString(name)).replaceAll(name, 'h').replace(/(# \{[^}]*\} \S+) \d+(\.\d+)?$/gm, '$1');
  }

  it('gives the same buckets, sum, count and exemplars per label set, across a reset', async () => {
    const registry = new client.Registry();
    registry.setContentType(client.Registry.OPENMETRICS_CONTENT_TYPE as never);
    const buckets = [0.001, 0.01, 0.1];
    const fast = new client.Histogram({ name: 'fast_seconds', help: 'x', labelNames: ['status'], buckets, enableExemplars: true, registers: [registry] });
    const slow = new client.Histogram({ name: 'slow_seconds', help: 'x', labelNames: ['status'], buckets, enableExemplars: true, registers: [registry] });
    const observers = { success: makeFastObserver(fast, { status: 'success' }), failed: makeFastObserver(fast, { status: 'failed' }) };
    const observeAll = (round: number) => {
      for (let i = 0; i < 120; i += 1) {
        const value = [0.0005, 0.005, 0.05, 0.5, 5][i % 5]! * (1 + (i % 3) / 10);
        const status = i % 4 === 0 ? 'failed' : 'success';
        const exemplar = { trace_id: `${round}${String(i).padStart(31, '0')}` };
        observers[status](value, exemplar);
        slow.observe({ labels: { status }, value, exemplarLabels: exemplar } as never);
      }
    };
    observeAll(1);
    const text = await openMetricsOf(registry, 'fast_seconds');
    assert.equal(text, await openMetricsOf(registry, 'slow_seconds'));
    assert.match(text, /h_bucket\{le="0.01",status="success"\} \d+ # \{trace_id="1\d{31}"\}/);
    assert.match(text, /h_bucket\{le="\+Inf",status="failed"\} 30 # \{trace_id="1\d{31}"\}/);
    registry.resetMetrics();
    observeAll(2);
    assert.equal(await openMetricsOf(registry, 'fast_seconds'), await openMetricsOf(registry, 'slow_seconds'));
  });

  it('keeps a bucket\'s exemplar for an observation without exemplar labels, and refuses a label set over 128 characters, as prom-client does', async () => {
    const registry = new client.Registry();
    registry.setContentType(client.Registry.OPENMETRICS_CONTENT_TYPE as never);
    const fast = new client.Histogram({ name: 'fast_seconds', help: 'x', buckets: [1], enableExemplars: true, registers: [registry] });
    const slow = new client.Histogram({ name: 'slow_seconds', help: 'x', buckets: [1], enableExemplars: true, registers: [registry] });
    const observe = makeFastObserver(fast, {});
    for (const [value, exemplar] of [[0.5, { trace_id: 'a'.repeat(32) }], [0.6, { trace_id: 'b'.repeat(32) }], [0.7, {}]] as const) {
      observe(value, exemplar);
      slow.observe({ value, exemplarLabels: exemplar } as never);
    }
    assert.equal(await openMetricsOf(registry, 'fast_seconds'), await openMetricsOf(registry, 'slow_seconds'));
    assert.match(await openMetricsOf(registry, 'fast_seconds'), /h_bucket\{le="1"\} 3 # \{trace_id="b{32}"\} 0.6/);
    const long = { trace_id: 'c'.repeat(200) };
    assert.throws(() => slow.observe({ value: 0.8, exemplarLabels: long } as never), RangeError);
    assert.throws(() => observe(0.8, long), RangeError);
  });

  it('ignores the exemplar on a histogram without exemplars, and still counts the observation', async () => {
    const registry = new client.Registry();
    const plain = new client.Histogram({ name: 'plain_seconds', help: 'x', buckets: [1], registers: [registry] });
    const observe = makeFastObserver(plain, {});
    observe(0.5, { trace_id: 'a'.repeat(32) });
    observe(2, { trace_id: 'b'.repeat(32) });
    assert.match(await registry.getSingleMetricAsString('plain_seconds'), /plain_seconds_count 2/);
  });
});
