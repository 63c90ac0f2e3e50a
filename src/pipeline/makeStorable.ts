import { isStorableText, type WellFormedString } from './findUnstorableText.js';

const storableText = (text: string) => (isStorableText(text) ? text : (text as WellFormedString).toWellFormed().replaceAll('\u0000', '\uFFFD'));

/**
 * A copy of a payload that Postgres can store, for the webhook's monitoring record: NUL characters and lone
 * surrogates (in keys and string values) become U+FFFD. The record of a refused webhook must be written even
 * when its payload is what was refused; one row that jsonb rejects would fail its whole batch.
 */
export function makeStorable(value: unknown): unknown {
  if (typeof value === 'string') return storableText(value);
  if (Array.isArray(value)) return value.map(makeStorable);
  if (value !== null && typeof value === 'object') {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      // defineProperty: a key named __proto__ stays a plain field, as JSON.parse made it.
      Object.defineProperty(copy, storableText(key), { value: makeStorable(item), enumerable: true, writable: true, configurable: true });
    }
    return copy;
  }
  return value;
}
