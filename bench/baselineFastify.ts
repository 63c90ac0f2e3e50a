import Fastify from 'fastify';

/**
 * The Fastify baseline: a bare Fastify app (the framework the service ships on) with the same body parsing
 * (JSON and text up to 64 KiB) answering 200 to the webhook path. Beside the Express baseline it shows what the
 * framework itself costs here, measured in the same run.
 */
const app = Fastify({ bodyLimit: 64 * 1024, keepAliveTimeout: 65_000 });
app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_req, body, done) => done(null, body));
app.post('/api/webhooks/tradingview', async () => ({ status: 'ok' }));
app.get('/readyz', async () => ({ status: 'ready' }));
await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
