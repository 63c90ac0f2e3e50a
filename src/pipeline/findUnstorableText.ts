import { isStorableText } from '../domain/storableText.js';

/** Longest key shown in a path: a path names the field, it does not repeat whatever the sender put there. */
const MAX_KEY_CHARS = 64;
const MAX_FOUND = 20;

/** A key as a path shows it: unstorable characters escaped (`\u0000`), long keys cut. */
function showKey(key: string): string {
  const shown = isStorableText(key) ? key : JSON.stringify(key).slice(1, -1);
  return shown.length > MAX_KEY_CHARS ? `${shown.slice(0, MAX_KEY_CHARS)}...` : shown;
}

/**
 * Paths of the keys and string values, at any depth, that Postgres cannot store: `text` and `jsonb` refuse NUL,
 * and `jsonb` refuses a lone surrogate, so such a value would fail the signal's insert (a 503 that TradingView
 * resends three times) instead of being refused as the sender's mistake. One pass over the value; the depth is
 * bounded by parseBody.
 */
export function findUnstorableText(value: unknown, path = '', found: string[] = []): string[] {
  if (found.length >= MAX_FOUND) return found;
  if (typeof value === 'string') {
    if (!isStorableText(value)) found.push(path || '(body)');
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => findUnstorableText(item, `${path}[${i}]`, found));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const keyPath = path ? `${path}.${showKey(key)}` : showKey(key);
      if (!isStorableText(key)) found.push(`${keyPath} (the name)`);
      findUnstorableText(item, keyPath, found);
    }
  }
  return found;
}
