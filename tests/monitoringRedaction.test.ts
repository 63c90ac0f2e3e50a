import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Webhook } from 'standardwebhooks';
import { scrape } from './support/metricsText.js';
import { startOtlpReceiver } from './support/startOtlpReceiver.js';
import { alert, startTestService, TEST_ADMIN_TOKEN } from './support/startTestService.js';
import { waitFor } from './support/waitFor.js';

const SIGNING = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SECRETS = ['body-secret-111-aaaa', 'passphrase-222-bbbb', 'key-secret-333-cccc', 'query-token-444-dddd'];

describe('monitoring: secrets never reach records, logs, traces or metrics', function () {
  this.timeout(60_000);

  it('redacts every secret location', async () => {
    const otlp = await startOtlpReceiver();
    let logs = '';
    const sink = new Writable({ write: (chunk, _enc, done) => ((logs += chunk.toString()), done()) });
    const logger = pino({ level: 'debug' }, sink);
    const svc = await startTestService(
      { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint, WEBHOOK_SECRETS: SECRETS.join(','), WEBHOOK_SIGNING_SECRET: SIGNING, LOG_LEVEL: 'debug' },
      { logger },
    );
    try {
      const ids: string[] = [];
      const send = async (...args: Parameters<typeof svc.post>) => ids.push((await svc.post(...args)).body.webhookId);
      await send(alert({ secret: SECRETS[0], price: 1 }));
      await send(alert({ secret: undefined, passphrase: SECRETS[1], price: 2 }));
      await send(alert({ secret: undefined, Key: SECRETS[2], price: 3 }));
      await send(alert({ secret: undefined, price: 4 }), { query: `token=${SECRETS[3]}` });
      await send(alert({ secret: `${SECRETS[0]}-wrong`, price: 5 })); // a wrong secret is a secret too
      await send(`secret=${SECRETS[0]}\nticker=BTC\naction=hodl`, { contentType: 'text/plain' });
      await send(`{"secret": "${SECRETS[1]}", broken`, { contentType: 'application/json' });
      await send(`passphrase=${SECRETS[2]} this is not key value`, { contentType: 'text/plain' });
      const body = JSON.stringify({ ticker: 'SIG', action: 'buy', price: 6 });
      const now = new Date();
      const signature = new Webhook(SIGNING).sign('msg_1', now, body);
      await send(body, { headers: { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': signature, authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });

      await waitFor(async () => (await svc.pool.query('SELECT count(*)::int AS n FROM webhook_requests WHERE id = ANY($1)', [ids])).rows[0].n === ids.length, { what: 'records' });
      await waitFor(async () => ids.every((id) => otlp.spans.some((s) => s.attributes['webhook.id'] === id && s.attributes['webhook.record'] === 'request')), { what: 'traces' });
      const records = JSON.stringify((await svc.pool.query('SELECT * FROM webhook_requests')).rows);
      const stages = JSON.stringify((await svc.pool.query('SELECT * FROM processing_stages')).rows);
      const signals = JSON.stringify((await svc.pool.query('SELECT * FROM signals')).rows);
      const metrics = await scrape(svc.opsUrl);
      const exported = otlp.raw.join('\n');
      const places = { records, stages, signals, metrics, exported, logs };
      for (const secret of [...SECRETS, signature.split(',')[1]!, TEST_ADMIN_TOKEN, SIGNING.slice(6)]) {
        for (const [where, text] of Object.entries(places)) assert.equal(text.includes(secret), false, `${secret} found in ${where}`);
      }
      assert.ok(records.includes('[redacted]'), 'redacted markers where secrets were');
      assert.ok(logs.length > 0 && exported.length > 0);
    } finally {
      await svc.close();
      await otlp.close();
    }
  });
});
