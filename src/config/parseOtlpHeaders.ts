import { validateHeaderName, validateHeaderValue } from 'node:http';

/**
 * Parses OTEL_EXPORTER_OTLP_HEADERS / OTEL_EXPORTER_OTLP_TRACES_HEADERS as the OpenTelemetry specification
 * writes them: `key1=value1,key2=value2`, each key and value percent-encoded (W3C Baggage's format), e.g.
 * `authorization=Bearer%20abc`. The SDK's exporters read these variables themselves; the service's own protobuf
 * exporter gets them from here. A pair without `=` or with an empty key, or a bad percent-escape, is refused.
 */
export function parseOtlpHeaders(raw: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of raw.split(',')) {
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    const key = eq < 0 ? '' : decode(pair.slice(0, eq).trim());
    if (!key) throw new Error('must be key=value pairs separated by commas (values percent-encoded)');
    const value = decode(pair.slice(eq + 1).trim());
    // Checked here, not at the first export: a line break or a control character would make every export fail.
    try {
      validateHeaderName(key);
      validateHeaderValue(key, value);
    } catch {
      throw new Error(`has a header ${JSON.stringify(key)} whose name or value HTTP cannot carry (control characters, line breaks)`);
    }
    headers[key.toLowerCase()] = value;
  }
  return headers;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new Error('has a bad percent-escape (write % as %25)');
  }
}
