import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import { observeHeapAfterMajorGc } from '../src/telemetry/observeHeapAfterMajorGc.js';
import { startTestService, type TestService } from './support/startTestService.js';
import { sampleValue, scrape } from './support/metricsText.js';
import { waitFor } from './support/waitFor.js';

/** A full (major) collection on demand: the test process was not started with --expose-gc. */
function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

describe('observeHeapAfterMajorGc: the heap in use after a major collection, the leak signal', () => {
  it('reports the heap in use after a major collection, within the heap V8 has', async () => {
    const reports: number[] = [];
    const stop = observeHeapAfterMajorGc((bytes) => reports.push(bytes), (err) => assert.fail(String(err)));
    try {
      collectGarbage();
      await waitFor(async () => reports.length > 0 || undefined);
      const heap = v8.getHeapStatistics();
      assert.ok(reports[0]! > 1024 * 1024 && reports[0]! <= heap.total_heap_size, `${reports[0]} of ${heap.total_heap_size}`);
    } finally {
      stop();
    }
  });

  it('passes a failing report to onError instead of throwing, and reports nothing once stopped', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const stop = observeHeapAfterMajorGc(() => {
      calls += 1;
      throw new Error('gauge broke');
    }, (err) => errors.push(err));
    collectGarbage();
    await waitFor(async () => errors.length > 0 || undefined);
    assert.match(String(errors[0]), /gauge broke/);
    stop();
    const before = calls;
    collectGarbage();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(calls, before);
  });
});

describe('nodejs_heap_used_after_major_gc_bytes on /metrics', function () {
  this.timeout(60_000);
  let svc: TestService;
  before(async () => {
    svc = await startTestService();
  });
  after(async () => {
    await svc?.close();
  });

  it('is set after a major collection of the service process', async () => {
    collectGarbage();
    const value = await waitFor(async () => {
      const v = sampleValue(await scrape(svc.opsUrl), 'nodejs_heap_used_after_major_gc_bytes');
      return v !== undefined && v > 0 ? v : undefined;
    });
    assert.ok(value > 1024 * 1024, String(value));
  });
});
