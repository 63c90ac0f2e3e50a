const MAX_DEPTH = 8;

/**
 * True when `text` holds `{{` ... `}}` with no `}` in between (what /\{\{[^}]*\}\}/ matches), found in one
 * pass. That regular expression backtracks: on a run of `{` with no `}}` it rescans the rest of the string from
 * every `{`, so 60 KB of `{` took 2 s of CPU (8 s on the 2-core CI machine) and stalled every other request.
 * Here each indexOf starts where the previous one stopped, so the work is linear in the length of the text.
 */
export function hasPlaceholder(text: string): boolean {
  let open = text.indexOf('{{');
  while (open !== -1) {
    // Every `{{` before this `}` shares it as its first `}`: the placeholder closes here or nowhere.
    const close = text.indexOf('}', open + 2);
    if (close === -1) return false;
    if (text.charCodeAt(close + 1) === 0x7d /* } */) return true;
    open = text.indexOf('{{', close + 1);
  }
  return false;
}

/**
 * Paths of every value that still holds a TradingView placeholder (`{{close}}`): TradingView substitutes
 * known placeholders, so one left over means the alert message was written wrongly.
 */
export function findPlaceholders(value: unknown, path = '', depth = 0, found: string[] = []): string[] {
  if (depth > MAX_DEPTH || found.length >= 20) return found;
  if (typeof value === 'string') {
    if (hasPlaceholder(value)) found.push(path || '(body)');
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => findPlaceholders(item, `${path}[${i}]`, depth + 1, found));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) findPlaceholders(item, path ? `${path}.${key}` : key, depth + 1, found);
  }
  return found;
}
