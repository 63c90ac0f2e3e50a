import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import { parseConfig } from '../src/config/parseConfig.js';
import { freePort } from './support/freePort.js';
import { alert, startTestService, TEST_ADMIN_TOKEN, type TestService } from './support/startTestService.js';
import { createTestDatabase } from './support/testDatabase.js';
import { waitFor } from './support/waitFor.js';

const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; body: any }> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, text, body };
}

/** The admin API: every route but the webhook, with real ids so that each answers 200 where it is served. */
function adminRoutes(ids: { signalId: string; webhookId: string }): Array<{ method: string; path: string }> {
  return [
    { method: 'GET', path: '/api/signals' },
    { method: 'GET', path: `/api/signals/${ids.signalId}` },
    { method: 'GET', path: '/api/executions' },
    { method: 'GET', path: '/api/positions' },
    { method: 'GET', path: '/api/monitoring/performance' },
    { method: 'GET', path: '/api/monitoring/realtime' },
    { method: 'GET', path: '/api/monitoring/health' },
    { method: 'GET', path: '/api/webhooks' },
    { method: 'GET', path: `/api/webhooks/${ids.webhookId}` },
    // A duplicate of an accepted webhook: answered 200 without a second signal.
    { method: 'POST', path: `/api/webhooks/${ids.webhookId}/replay` },
  ];
}

/** A non-loopback IPv4 address of this machine, if it has one. */
function externalIpv4(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    const found = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
    if (found) return found.address;
  }
  return undefined;
}

describe('operations listener: only the webhook on the public address', function () {
  this.timeout(60_000);

  describe('by default', () => {
    let svc: TestService;
    before(async () => {
      svc = await startTestService();
    });
    after(async () => svc?.close());

    it('serves /metrics on OPS_PORT and answers 404 WH_ERR_NOT_FOUND for it on the public port', async () => {
      assert.equal((await svc.post(alert({ price: 11 }))).body.status, 'accepted');
      const publicMetrics = await get(`${svc.url}/metrics`);
      assert.equal(publicMetrics.status, 404);
      assert.equal(publicMetrics.body.error.code, 'WH_ERR_NOT_FOUND');
      const opsMetrics = await get(`${svc.opsUrl}/metrics`);
      assert.equal(opsMetrics.status, 200);
      assert.match(opsMetrics.text, /^webhook_requests_total\{.*status="success".*\} 1$/m);
      assert.notEqual(new URL(svc.opsUrl).port, new URL(svc.url).port);
    });

    it('answers /healthz and /readyz on both listeners', async () => {
      for (const base of [svc.url, svc.opsUrl]) {
        assert.equal((await get(`${base}/healthz`)).status, 200, `${base}/healthz`);
        const ready = await get(`${base}/readyz`);
        assert.equal(ready.status, 200, `${base}/readyz`);
        assert.equal(ready.body.status, 'ready');
      }
    });

    it('keeps the admin API on the public listener, and not on the operations one', async () => {
      assert.equal((await get(`${svc.url}/api/signals`, auth)).status, 200);
      const onOps = await get(`${svc.opsUrl}/api/signals`, auth);
      assert.equal(onOps.status, 404);
      assert.equal(onOps.body.error.code, 'WH_ERR_NOT_FOUND');
    });
  });

  it('ADMIN_API_ON_OPS=true moves every admin route to the operations listener; the public one serves the webhook alone', async () => {
    const svc = await startTestService({ ADMIN_API_ON_OPS: 'true' });
    try {
      const accepted = await svc.post(alert({ price: 12 }));
      assert.equal(accepted.body.status, 'accepted');
      const ids = { signalId: accepted.body.signalId as string, webhookId: accepted.body.webhookId as string };
      // The record is written by the batched sink within a second.
      await waitFor(async () => (await get(`${svc.opsUrl}/api/webhooks/${ids.webhookId}`, auth)).status === 200, { what: 'webhook record' });
      for (const route of adminRoutes(ids)) {
        const onPublic = await fetch(`${svc.url}${route.path}`, { method: route.method, headers: auth });
        const publicBody = (await onPublic.json()) as any;
        assert.equal(onPublic.status, 404, `${route.method} ${route.path} on the public port`);
        assert.equal(publicBody.error.code, 'WH_ERR_NOT_FOUND');
        assert.match(publicBody.error.message, /^No route /, `${route.path}: the route is absent, not the record`);
        const onOps = await fetch(`${svc.opsUrl}${route.path}`, { method: route.method, headers: auth });
        assert.equal(onOps.status, 200, `${route.method} ${route.path} on the operations port: ${await onOps.text()}`);
      }
      // Still behind the admin token there.
      assert.equal((await get(`${svc.opsUrl}/api/signals`)).status, 401);
      // The webhook is public only.
      const webhookOnOps = await fetch(`${svc.opsUrl}/api/webhooks/tradingview`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alert({ price: 13 })) });
      assert.equal(webhookOnOps.status, 404);
      assert.equal((await svc.api('/api/signals')).body.signals.length, 1, 'the test helper reaches the admin API where it is served');
    } finally {
      await svc.close();
    }
  });

  it('listens on loopback by default: with HOST=0.0.0.0 the webhook is reachable from outside, /metrics is not', async function () {
    const config = parseConfig({});
    assert.equal(config.http.opsHost, '127.0.0.1');
    assert.equal(config.http.opsPort, 9300);
    const external = externalIpv4();
    if (!external) this.skip();
    const svc = await startTestService({ HOST: '0.0.0.0' });
    try {
      const publicPort = new URL(svc.url).port;
      const opsPort = new URL(svc.opsUrl).port;
      assert.equal(new URL(svc.opsUrl).hostname, '127.0.0.1');
      assert.equal((await get(`http://${external}:${publicPort}/healthz`)).status, 200);
      await assert.rejects(fetch(`http://${external}:${opsPort}/metrics`), 'the operations port is not open on other addresses');
    } finally {
      await svc.close();
    }
  });

  it('stops both listeners on shutdown', async () => {
    const svc = await startTestService();
    assert.equal((await get(`${svc.opsUrl}/healthz`)).status, 200);
    await svc.close();
    await assert.rejects(fetch(`${svc.url}/healthz`));
    await assert.rejects(fetch(`${svc.opsUrl}/healthz`));
  });

  it('refuses OPS_PORT equal to PORT, naming OPS_PORT', () => {
    assert.throws(() => parseConfig({ PORT: '3000', OPS_PORT: '3000' }), /OPS_PORT=3000: must differ from PORT/);
    assert.throws(() => parseConfig({ ADMIN_API_ON_OPS: 'sometimes' }), /ADMIN_API_ON_OPS="sometimes"/);
  });

  it('fails start-up naming OPS_HOST/OPS_PORT when the operations port is taken, and frees the public port', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as { port: number }).port;
    const publicPort = await freePort();
    const db = await createTestDatabase();
    try {
      await assert.rejects(
        startTestService({ PORT: String(publicPort), OPS_PORT: String(taken) }, { db }),
        new RegExp(`OPS_HOST/OPS_PORT 127\\.0\\.0\\.1:${taken}: .*EADDRINUSE`),
      );
      // The public listener that had started is closed again: its port can be taken.
      const again = createServer();
      await new Promise<void>((resolve, reject) => {
        again.once('error', reject);
        again.listen(publicPort, '127.0.0.1', resolve);
      });
      await new Promise<void>((resolve) => again.close(() => resolve()));
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
      await db.drop();
    }
  });
});
