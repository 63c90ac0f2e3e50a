/** One reading of the soak: the V8 heap in use after the latest major collection, and how many there had been. */
export interface HeapReading {
  heapAfterGcBytes: number;
  majorGcs: number;
}

/**
 * The V8 heap in use after a major collection at the soak's start and at its end
 * (nodejs_heap_used_after_major_gc_bytes, sampled every 5 s with the count of major collections): what the
 * process holds, which a leak raises. At 1,000 webhooks/s V8 collects the old generation every 5-60 s.
 * The start is the first reading: the collection before the soak, or one in its first seconds (before
 * 2026-11-30 only the one before the soak counted, and a run whose first collection came a second into the soak
 * reported NaN with ten collections in it). The end is the last reading, and must come from a later collection
 * than the start's (both NaN otherwise).
 */
export function heapAfterMajorGcs(series: HeapReading[], majorGcsBefore: number): { first: number; last: number; majorGcs: number } {
  const start = series[0];
  const end = series[series.length - 1];
  const majorGcs = end ? end.majorGcs - majorGcsBefore : 0;
  if (!start || !end || end.majorGcs <= start.majorGcs || !(start.heapAfterGcBytes > 0)) return { first: NaN, last: NaN, majorGcs };
  return { first: start.heapAfterGcBytes, last: end.heapAfterGcBytes, majorGcs };
}
