import assert from 'node:assert/strict';
import { startCaddy, type Caddy } from './support/startCaddy.js';
import { requestFrom, type Answer } from './support/requestFrom.js';
import { requireTools, TOOLS } from './support/stackTools.js';
import { alert, startTestService, TEST_ADMIN_TOKEN, type TestService } from './support/startTestService.js';
import { waitFor } from './support/waitFor.js';

/**
 * The shipped deploy/Caddyfile, run by Debian's caddy with its internal CA, in front of the service. Clients
 * connect over HTTPS from distinct loopback addresses; the service must judge IP_ALLOWLIST and the per-IP rate
 * limit on each client's real address, whatever X-Forwarded-For the client sends.
 */
describe('HTTPS through the shipped Caddyfile (Debian caddy, internal CA)', function () {
  this.timeout(120_000);
  before(function () {
    requireTools(this, TOOLS.caddy);
  });

  // Both ways of trusting Caddy: by its address, and as the one hop in front of the service.
  for (const trustProxy of ['127.0.0.1', '1']) {
    describe(`TRUST_PROXY=${trustProxy}`, () => {
      let svc: TestService;
      let caddy: Caddy;
      before(async () => {
        svc = await startTestService({ TRUST_PROXY: trustProxy, IP_ALLOWLIST: '127.0.0.5, 127.0.0.7, 127.0.0.8', RATE_LIMIT_PER_MINUTE: '3',
          // Above Caddy's 1 MB bound, so that the body test below meets Caddy's limit rather than the service's.
          BODY_LIMIT_BYTES: '2000000',
        });
        caddy = await startCaddy({ upstream: new URL(svc.url).host });
      });
      after(async () => {
        await caddy?.stop();
        await svc?.close();
      });

      const send = (localAddress: string, o: { path?: string; method?: string; forwardedFor?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Answer> =>
        requestFrom({
          url: `${caddy.url}${o.path ?? '/api/webhooks/tradingview'}`,
          connectTo: '127.0.0.1',
          ca: caddy.rootCa,
          localAddress,
          method: o.method ?? 'POST',
          headers: { ...(o.forwardedFor ? { 'x-forwarded-for': o.forwardedFor } : {}), ...o.headers },
          body: o.body ?? (o.method && o.method !== 'POST' ? '' : JSON.stringify(alert({ price: Math.random() }))),
        });
      const sourceIpOf = (webhookId: string) =>
        waitFor(async () => {
          const res = await svc.api(`/api/webhooks/${webhookId}`);
          return res.status === 200 ? res.body.webhook.sourceIp : undefined;
        }, { what: `record of ${webhookId}` });

      it('accepts a webhook over HTTPS from an allowed client and records its real address', async () => {
        const res = await send('127.0.0.5');
        assert.equal(res.status, 200, res.text);
        assert.equal(res.json.status, 'accepted');
        assert.equal(await sourceIpOf(res.json.webhookId), '127.0.0.5');
      });

      it('refuses a client outside IP_ALLOWLIST with 403 even when it forges X-Forwarded-For', async () => {
        const res = await send('127.0.0.6', { forwardedFor: '127.0.0.5' });
        assert.equal(res.status, 403, res.text);
        assert.equal(res.json.error.code, 'WH_ERR_IP_FORBIDDEN');
        assert.match(res.json.error.message, /from 127\.0\.0\.6 /);
        assert.equal(await sourceIpOf(res.json.webhookId), '127.0.0.6');
      });

      it('counts the rate limit per real client: a forged header neither resets a budget nor spends another client’s', async () => {
        // 127.0.0.8 claims to be 127.0.0.7: its requests still spend its own budget...
        for (let i = 0; i < 3; i++) assert.equal((await send('127.0.0.8', { forwardedFor: '127.0.0.7' })).status, 200);
        // ...and a fresh forged address does not buy it a new one.
        const limited = await send('127.0.0.8', { forwardedFor: '127.0.0.9' });
        assert.equal(limited.status, 429, limited.text);
        assert.equal(limited.json.error.code, 'WH_ERR_RATE_LIMITED');
        assert.match(limited.json.error.message, /from 127\.0\.0\.8:/);
        assert.ok(Number(limited.headers['retry-after']) > 0);
        // 127.0.0.7's budget is whole.
        for (let i = 0; i < 3; i++) assert.equal((await send('127.0.0.7')).status, 200);
        assert.equal((await send('127.0.0.7')).status, 429);
      });

      if (trustProxy !== '1') return;

      it('keeps /metrics, health and the admin API private: Caddy answers 404', async () => {
        const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
        for (const path of ['/metrics', '/healthz', '/readyz', '/api/signals', '/api/monitoring/health', '/api/webhooks', '/api/webhooks/tradingview/../../signals']) {
          const res = await send('127.0.0.5', { path, method: 'GET', headers: auth });
          assert.equal(res.status, 404, `${path}: ${res.status} ${res.text}`);
          assert.equal(res.text, 'Not found', `${path} is answered by Caddy, not the service`);
        }
        // A path that Caddy cleans to the webhook's reaches the service as the webhook path only.
        const dotted = await send('127.0.0.5', { path: '/metrics/../api/webhooks/tradingview' });
        assert.equal(dotted.status, 200, dotted.text);
        assert.equal(dotted.json.status, 'accepted');
      });

      it('redirects plain HTTP to HTTPS', async () => {
        const res = await requestFrom({ url: `http://${caddy.domain}:${caddy.httpPort}/api/webhooks/tradingview`, connectTo: '127.0.0.1', method: 'GET' });
        assert.equal(res.status, 308);
        // Caddy 2.6 leaves a non-standard port out of the Location; in production that port is 443.
        const location = new URL(String(res.headers.location));
        assert.deepEqual([location.protocol, location.hostname, location.pathname], ['https:', caddy.domain, '/api/webhooks/tradingview']);
      });

      it('refuses a body over its 1 MB bound with 413 WH_ERR_PAYLOAD_TOO_LARGE', async () => {
        const res = await send('127.0.0.5', { body: JSON.stringify(alert({ note: 'x'.repeat(1_100_000) })) });
        assert.equal(res.status, 413, res.text);
        assert.equal(res.json.error.code, 'WH_ERR_PAYLOAD_TOO_LARGE');
        assert.match(res.json.error.message, /proxy's 1 MB limit/);
      });
    });
  }
});
