import { constants, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';

/**
 * Reports the V8 heap in use shortly after each major (mark-compact) collection: about what the process really
 * holds. The heap in use between collections is a sawtooth (at 1,000 webhooks/s: from about 37 MiB after a major
 * collection up to 70-270 MiB before the next, 5-60 s apart), and resident memory keeps the pages of its peaks,
 * so neither tells a leak from garbage waiting for the collector; this value rises only with a leak.
 *
 * The observer's callback runs a little after the collection (entries are delivered in batches), so a few
 * allocations of that moment may be counted. A failing `report` is passed to `onError`, never thrown.
 */
export function observeHeapAfterMajorGc(report: (bytes: number) => void, onError: (err: unknown) => void): () => void {
  const observer = new PerformanceObserver((list) => {
    try {
      if (list.getEntries().some((e) => (e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)) {
        report(v8.getHeapStatistics().used_heap_size);
      }
    } catch (err) {
      onError(err);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => observer.disconnect();
}
