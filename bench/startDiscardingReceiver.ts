import http from 'node:http';
import { countOtlpSpans } from './countOtlpSpans.js';

/**
 * An OTLP/HTTP endpoint that reads each export request, counts it and the spans in it, and answers 200: the
 * cheapest collector. The span count lets the bench check that every webhook's trace arrived whole.
 */
export async function startDiscardingReceiver() {
  let requests = 0;
  let bytes = 0;
  let spans = 0;
  let unreadable = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      bytes += c.length;
      chunks.push(c);
    });
    req.on('end', () => {
      requests += 1;
      try {
        spans += countOtlpSpans(Buffer.concat(chunks), req.headers['content-type']);
      } catch {
        unreadable += 1;
      }
      const json = req.headers['content-type']?.includes('json');
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stats: () => ({ requests, bytes, spans, unreadable }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
