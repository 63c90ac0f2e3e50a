import assert from 'node:assert/strict';
import { alert, startTestService, TEST_SECRET, type TestService } from './support/startTestService.js';

describe('webhook endpoint: refusals', () => {
  let svc: TestService;
  before(async () => {
    svc = await startTestService({ BODY_LIMIT_BYTES: '1024' });
  });
  after(async () => svc.close());

  async function expectError(res: { status: number; body: any }, status: number, code: string, messagePattern?: RegExp) {
    assert.equal(res.status, status, JSON.stringify(res.body));
    assert.equal(res.body.error.code, code);
    assert.match(res.body.webhookId, /^[0-9a-f-]{36}$/);
    if (messagePattern) assert.match(res.body.error.message, messagePattern);
    assert.equal(JSON.stringify(res.body).includes('    at '), false, 'no stack trace');
  }

  it('answers 413 for a body over BODY_LIMIT_BYTES', async () => {
    await expectError(await svc.post(alert({ note: 'x'.repeat(2000) })), 413, 'WH_ERR_PAYLOAD_TOO_LARGE', /BODY_LIMIT_BYTES/);
  });

  it('answers 415 for another media type', async () => {
    await expectError(await svc.post('a=b', { contentType: 'application/x-www-form-urlencoded' }), 415, 'WH_ERR_UNSUPPORTED_MEDIA_TYPE', /application\/json or text\/plain/);
  });

  it('answers 400 for broken JSON, naming the problem', async () => {
    await expectError(await svc.post('{"ticker": "BTC", }'), 400, 'WH_ERR_MALFORMED_BODY', /not valid JSON/);
  });

  it('answers 400 for an empty body and for a JSON array', async () => {
    await expectError(await svc.post('   ', { contentType: 'text/plain' }), 400, 'WH_ERR_MALFORMED_BODY', /empty/);
    await expectError(await svc.post('[1,2]'), 400, 'WH_ERR_MALFORMED_BODY', /must be an object/);
  });

  it('answers 400 for text that is neither JSON nor KEY=VALUE', async () => {
    await expectError(await svc.post('buy bitcoin now', { contentType: 'text/plain' }), 400, 'WH_ERR_MALFORMED_BODY', /KEY=VALUE/);
  });

  it('answers 401 WH_ERR_AUTH_MISSING without a secret', async () => {
    const { secret: _s, ...noSecret } = alert();
    await expectError(await svc.post(noSecret), 401, 'WH_ERR_AUTH_MISSING', /secret/);
  });

  it('answers 401 WH_ERR_AUTH_INVALID for a wrong secret', async () => {
    await expectError(await svc.post(alert({ secret: 'wrong-secret' })), 401, 'WH_ERR_AUTH_INVALID');
    await expectError(await svc.post(alert({ secret: undefined }), { query: 'token=nope' }), 401, 'WH_ERR_AUTH_INVALID');
  });

  it('accepts the secret as ?token= and in the key field', async () => {
    const { secret: _s, ...noSecret } = alert({ price: 1 });
    assert.equal((await svc.post(noSecret, { query: `token=${TEST_SECRET}` })).status, 200);
    const { secret: _t, ...other } = alert({ price: 2 });
    assert.equal((await svc.post({ ...other, KEY: TEST_SECRET })).status, 200);
  });

  it('answers 422 naming every bad field', async () => {
    const res = await svc.post(alert({ ticker: 'BAD TICKER$', quantity: '-1', price: 'abc' }));
    await expectError(res, 422, 'WH_ERR_INVALID_PAYLOAD');
    const fields = res.body.error.details.fields.map((f: { field: string }) => f.field).sort();
    assert.deepEqual(fields, ['price', 'quantity', 'ticker']);
    assert.match(res.body.error.message, /ticker must be 1-40 characters/);
  });

  it('answers 422 when ticker or action is missing', async () => {
    const res = await svc.post({ secret: TEST_SECRET, price: 1 });
    await expectError(res, 422, 'WH_ERR_INVALID_PAYLOAD', /ticker is required.*action is required/);
  });

  it('answers 422 for non-finite numbers', async () => {
    await expectError(await svc.post(alert({ quantity: 'Infinity' })), 422, 'WH_ERR_INVALID_PAYLOAD', /quantity must be a finite number/);
    await expectError(await svc.post(alert({ price: 'NaN' })), 422, 'WH_ERR_INVALID_PAYLOAD', /price/);
  });

  it('answers 422 WH_ERR_UNRESOLVED_PLACEHOLDER naming the field', async () => {
    const res = await svc.post(alert({ price: '{{close}}', strategy: { order_action: '{{strategy.order.action}}' } }));
    await expectError(res, 422, 'WH_ERR_UNRESOLVED_PLACEHOLDER', /price, strategy\.order_action/);
  });

  it('answers 422 WH_ERR_UNKNOWN_ACTION listing the accepted words', async () => {
    await expectError(await svc.post(alert({ action: 'hodl' })), 422, 'WH_ERR_UNKNOWN_ACTION', /buy, long, sell, short, close, exit, flat/);
  });

  it('answers 422 for an alert time that is not a date', async () => {
    await expectError(await svc.post(alert({ time: 'yesterday' })), 422, 'WH_ERR_INVALID_PAYLOAD', /time/);
  });

  it('answers 405 with Allow: POST to GET', async () => {
    const res = await fetch(`${svc.url}/api/webhooks/tradingview`);
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'POST');
    assert.equal(((await res.json()) as any).error.code, 'WH_ERR_METHOD_NOT_ALLOWED');
  });

  it('answers 404 with a code for unknown routes', async () => {
    const res = await fetch(`${svc.url}/nope`);
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as any).error.code, 'WH_ERR_NOT_FOUND');
  });

  it('answers 400 WH_ERR_BAD_REQUEST, with the security headers, for a URL Fastify cannot decode', async () => {
    // Fastify answers these before any hook; by default a bare 400 in its own shape, without our headers.
    const res = await fetch(`${svc.url}/api/webhooks/trading%zzview`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 400);
    const body = (await res.json()) as any;
    assert.equal(body.error.code, 'WH_ERR_BAD_REQUEST');
    assert.match(body.error.message, /percent|%/);
    assert.match(body.webhookId, /^[0-9a-f-]{36}$/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  });

  it('stores nothing for refused webhooks', async () => {
    const { rows } = await svc.pool.query('SELECT count(*)::int AS n FROM signals');
    assert.equal(rows[0].n, 2, 'only the two accepted token/key alerts');
  });
});

describe('webhook endpoint: rate limit and IP allowlist', () => {
  it('answers 429 with Retry-After past RATE_LIMIT_PER_MINUTE', async () => {
    const svc = await startTestService({ RATE_LIMIT_PER_MINUTE: '3' });
    try {
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await svc.post(alert({ price: i + 1 }))).status);
      assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
      const res = await svc.post(alert());
      assert.equal(res.body.error.code, 'WH_ERR_RATE_LIMITED');
      assert.ok(Number(res.headers.get('retry-after')) >= 1);
    } finally {
      await svc.close();
    }
  });

  it('answers 403 to an address outside IP_ALLOWLIST=tradingview, and lets allowed ones in', async () => {
    const svc = await startTestService({ IP_ALLOWLIST: 'tradingview' });
    try {
      const res = await svc.post(alert());
      assert.equal(res.status, 403);
      assert.equal(res.body.error.code, 'WH_ERR_IP_FORBIDDEN');
      assert.match(res.body.error.message, /127\.0\.0\.1/);
    } finally {
      await svc.close();
    }
    const open = await startTestService({ IP_ALLOWLIST: '52.89.214.238, 127.0.0.0/8' });
    try {
      assert.equal((await open.post(alert())).status, 200);
    } finally {
      await open.close();
    }
  });

  it('believes X-Forwarded-For only with TRUST_PROXY', async () => {
    const forwarded = { 'x-forwarded-for': '52.89.214.238' };
    const untrusted = await startTestService({ IP_ALLOWLIST: 'tradingview' });
    try {
      assert.equal((await untrusted.post(alert(), { headers: forwarded })).status, 403);
    } finally {
      await untrusted.close();
    }
    const trusted = await startTestService({ IP_ALLOWLIST: 'tradingview', TRUST_PROXY: '127.0.0.1' });
    try {
      assert.equal((await trusted.post(alert(), { headers: forwarded })).status, 200);
    } finally {
      await trusted.close();
    }
  });
});
