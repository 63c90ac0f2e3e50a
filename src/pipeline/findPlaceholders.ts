const PLACEHOLDER = /\{\{[^}]*\}\}/;
const MAX_DEPTH = 8;

/**
 * Paths of every value that still holds a TradingView placeholder (`{{close}}`): TradingView substitutes
 * known placeholders, so one left over means the alert message was written wrongly.
 */
export function findPlaceholders(value: unknown, path = '', depth = 0, found: string[] = []): string[] {
  if (depth > MAX_DEPTH || found.length >= 20) return found;
  if (typeof value === 'string') {
    if (PLACEHOLDER.test(value)) found.push(path || '(body)');
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => findPlaceholders(item, `${path}[${i}]`, depth + 1, found));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) findPlaceholders(item, path ? `${path}.${key}` : key, depth + 1, found);
  }
  return found;
}
