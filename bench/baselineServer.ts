import express from 'express';

/**
 * The baseline: a bare Express app with the same body parsing as the service (JSON and text bodies up to
 * 64 KiB) that answers 200 to the webhook path. Its throughput is the ceiling of the HTTP layer here.
 */
const app = express();
app.use(express.json({ limit: 64 * 1024 }));
app.use(express.text({ limit: 64 * 1024, type: 'text/plain' }));
app.post('/api/webhooks/tradingview', (_req, res) => {
  res.json({ status: 'ok' });
});
app.get('/readyz', (_req, res) => {
  res.json({ status: 'ready' });
});
const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
server.keepAliveTimeout = 65_000;
process.on('SIGTERM', () => server.close(() => process.exit(0)));
