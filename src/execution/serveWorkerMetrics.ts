import http from 'node:http';
import type { Logger } from 'pino';
import type { Metrics } from '../telemetry/makeMetrics.js';

/**
 * `GET /metrics` for a worker running alone (`npm run worker`): its execution counters and histograms and
 * its process metrics, in OpenMetrics. Without it, a worker in its own process would be invisible to the
 * SignalExecutionsFailing alert. Queue gauges come from the web process, which reads them from Postgres.
 */
export async function serveWorkerMetrics(options: { metrics: Metrics; host: string; port: number; logger: Logger }): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('GET /metrics\n');
      return;
    }
    options.metrics.registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': options.metrics.registry.contentType }).end(body),
      (err: unknown) => {
        options.logger.warn({ err }, 'worker metrics unavailable');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    url: `http://${options.host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
