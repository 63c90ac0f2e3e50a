const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'webhook-signature', 'x-api-key', 'x-webhook-secret']);
const MAX_HEADERS = 50;
const MAX_VALUE_CHARS = 512;

/** Request headers as the monitoring record keeps them: bounded, with credentials replaced. */
export function redactHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  let n = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (++n > MAX_HEADERS) break;
    const lower = name.toLowerCase();
    const text = Array.isArray(value) ? value.join(', ') : value;
    out[lower] = SECRET_HEADERS.has(lower) ? '[redacted]' : text.slice(0, MAX_VALUE_CHARS);
  }
  return out;
}
