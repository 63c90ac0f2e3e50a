import http from 'node:http';
import { decodeOtlpTraceRequest } from './decodeOtlpTraceRequest.js';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, string | number | boolean>;
  statusCode: number;
  links: Array<{ traceId: string; spanId: string }>;
  resource: Record<string, string | number | boolean>;
}

type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
type KeyValue = { key: string; value: AnyValue };

function decodeAttributes(list: KeyValue[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of list ?? []) {
    if (value.stringValue !== undefined) out[key] = value.stringValue;
    else if (value.intValue !== undefined) out[key] = Number(value.intValue);
    else if (value.doubleValue !== undefined) out[key] = value.doubleValue;
    else if (value.boolValue !== undefined) out[key] = value.boolValue;
  }
  return out;
}

/**
 * A local OTLP/HTTP traces receiver: decodes the real requests the service's exporter sends (protobuf, the
 * service's default, or OTLP JSON with OTEL_EXPORTER_OTLP_PROTOCOL=http/json) and keeps the spans and each
 * request's headers. `raw` holds
 * each request body as Latin-1 text (one character per byte), so any ASCII value in it can be searched for.
 */
export async function startOtlpReceiver() {
  const spans: ReceivedSpan[] = [];
  const raw: string[] = [];
  const headers: http.IncomingHttpHeaders[] = [];
  /** Spans in each export request, in arrival order. */
  const spansPerRequest: number[] = [];
  let requests = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests += 1;
      headers.push(req.headers);
      const bytes = Buffer.concat(chunks);
      const json = req.headers['content-type']?.includes('json') ?? false;
      raw.push(bytes.toString(json ? 'utf8' : 'latin1'));
      if (req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      const message = json ? JSON.parse(bytes.toString('utf8')) : decodeOtlpTraceRequest(bytes);
      const before = spans.length;
      for (const rs of message.resourceSpans ?? []) {
        const resource = decodeAttributes(rs.resource?.attributes);
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            spans.push({
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId ?? '',
              name: s.name,
              kind: s.kind,
              attributes: decodeAttributes(s.attributes),
              statusCode: s.status?.code ?? 0,
              links: (s.links ?? []).map((l: { traceId: string; spanId: string }) => ({ traceId: l.traceId, spanId: l.spanId })),
              resource,
            });
          }
        }
      }
      spansPerRequest.push(spans.length - before);
      if (json) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    raw,
    headers,
    spansPerRequest,
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
