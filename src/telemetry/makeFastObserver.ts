import type { Histogram } from 'prom-client';

/** The parts of prom-client's Histogram (15.x) a fast observer writes to; checked before every use. */
interface Entry {
  labels: Record<string, string | number>;
  bucketValues: Record<string, number>;
  /** Only on a histogram made with enableExemplars: each bucket's latest exemplar, created on first use. */
  bucketExemplars?: Record<string, ExemplarSlot | null | undefined>;
  sum: number;
  count: number;
}
/** prom-client's Exemplar: the latest observation of a bucket that carried exemplar labels. */
interface ExemplarSlot {
  labelSet: Record<string, string>;
  value: number;
  timestamp?: number;
}
interface HistogramInternals {
  hashMap?: Record<string, Entry>;
  upperBounds?: readonly number[];
  /** prom-client's own exemplar update (checks the label set's size, creates the bucket's Exemplar). */
  enableExemplars?: boolean;
  updateExemplar?: (labels: Record<string, string>, value: number, exemplarLabels: Record<string, string>) => void;
}

const ABOVE_ALL_KEY = '-1';

function sameLabels(a: Record<string, string | number>, b: Record<string, string | number>): boolean {
  const keys = Object.keys(b);
  return Object.keys(a).length === keys.length && keys.every((k) => String(a[k]) === String(b[k]));
}

/**
 * An observer for one label set of a histogram that skips prom-client's per-observation work (label validation,
 * hashing the label set, looking it up): it adds to the label set's bucket counts directly. prom-client's bound
 * children (`histogram.labels(...)`) still do all of it on every call; with six stage observations a webhook it
 * was 8.5 µs a webhook, the largest library cost monitoring had left on the bench's profile.
 *
 * The first observation (and the first after a reset) goes through prom-client, which creates the label set's
 * entry; later ones update that entry as prom-client's own observe would. When the internals are not what this
 * expects (another prom-client version), every observation goes through prom-client: slower, never wrong.
 *
 * With `exemplar` (ignored unless the histogram was made with enableExemplars), the bucket's exemplar becomes this observation's, as
 * prom-client's observe({ exemplarLabels }) makes it. That call hashed the label set twice, validated the labels
 * and the exemplar's size, and made three objects: 1.9 µs a webhook on the end-to-end histogram (requestCost
 * --profile). Here the bucket's existing Exemplar is updated in place; a bucket's first exemplar still goes
 * through prom-client, which creates it and checks its size.
 */
export function makeFastObserver(histogram: Histogram<string>, labels: Record<string, string>): (value: number, exemplar?: Record<string, string>) => void {
  const child = histogram.labels(labels);
  const internals = histogram as unknown as HistogramInternals;
  let map: Record<string, Entry> | undefined;
  let entry: Entry | undefined;
  const withExemplars = internals.enableExemplars === true;
  let keyedBounds: readonly number[] | undefined;
  let keys: string[] = [];
  return (value, exemplar) => {
    const bounds = internals.upperBounds;
    if (entry !== undefined && internals.hashMap === map && bounds !== undefined && Number.isFinite(value)) {
      entry.sum += value;
      entry.count += 1;
      // prom-client's bucket for a value above every bound: -1, counted only in the +Inf line (and its exemplar).
      let found = ABOVE_ALL_KEY;
      if (bounds !== keyedBounds) {
        keyedBounds = bounds;
        keys = bounds.map(String);
      }
      for (let i = 0; i < bounds.length; i += 1) {
        if (value <= bounds[i]!) {
          // By its key string: a fractional number as a property name is converted to a string on every access
          // (0.3 µs an observation, nine observations a webhook).
          const key = keys[i]!;
          entry.bucketValues[key] = (entry.bucketValues[key] ?? 0) + 1;
          found = key;
          break;
        }
      }
      if (exemplar !== undefined && withExemplars) setExemplar(internals, entry, found, labels, value, exemplar);
      return;
    }
    if (exemplar !== undefined && withExemplars) histogram.observe({ labels, value, exemplarLabels: exemplar } as never);
    else child.observe(value);
    map = internals.hashMap;
    const found = map && Array.isArray(bounds) ? Object.values(map).find((e) => e && typeof e === 'object' && e.labels && sameLabels(e.labels, labels)) : undefined;
    entry = found && typeof found.sum === 'number' && typeof found.count === 'number' && found.bucketValues && typeof found.bucketValues === 'object' ? found : undefined;
  };
}

/** OpenMetrics' bound on an exemplar's label set (names and values), which prom-client enforces. */
const MAX_EXEMPLAR_CHARS = 128;

function setExemplar(internals: HistogramInternals, entry: Entry, bound: string, labels: Record<string, string>, value: number, exemplar: Record<string, string>): void {
  let chars = 0;
  for (const name in exemplar) chars += name.length + String(exemplar[name]).length;
  // As prom-client: no labels leaves the bucket's exemplar as it was.
  if (chars === 0) return;
  const slot = entry.bucketExemplars?.[bound];
  if (slot !== null && typeof slot === 'object' && chars <= MAX_EXEMPLAR_CHARS) {
    slot.labelSet = exemplar;
    slot.value = value;
    slot.timestamp = Date.now() / 1000;
  } else if (entry.bucketExemplars !== undefined && typeof internals.updateExemplar === 'function') {
    // The bucket's first exemplar, or one too long (prom-client throws its RangeError).
    internals.updateExemplar.call(internals, labels, value, exemplar);
  }
}
