/**
 * Headers known to carry nothing secret, kept as sent. Every other header keeps its name (so the operator sees
 * it was sent) but not its value: a sender's proxy or client may put a credential in any header we do not know.
 */
const HARMLESS_HEADERS = new Set([
  'accept',
  'accept-encoding',
  'accept-language',
  'cache-control',
  'connection',
  'content-encoding',
  'content-length',
  'content-type',
  'expect',
  'forwarded',
  'host',
  'traceparent',
  'tracestate',
  'user-agent',
  'via',
  'webhook-id',
  'webhook-timestamp',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-proto',
  'x-real-ip',
  'x-request-id',
]);
const MAX_HEADERS = 50;
const MAX_VALUE_CHARS = 512;

/** Request headers as the monitoring record keeps them: bounded, and only harmless values in clear. */
export function redactHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  let n = 0;
  // for-in over own names, not Object.entries: no array made per header.
  for (const name in headers) {
    if (!Object.hasOwn(headers, name)) continue;
    const value = headers[name];
    if (value === undefined) continue;
    if (++n > MAX_HEADERS) break;
    const lower = name.toLowerCase();
    const text = Array.isArray(value) ? value.join(', ') : value;
    out[lower] = HARMLESS_HEADERS.has(lower) ? text.slice(0, MAX_VALUE_CHARS) : '[redacted]';
  }
  return out;
}
