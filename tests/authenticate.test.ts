import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { alert, startTestService, type TestService } from './support/startTestService.js';

// The Standard Webhooks specification's published test vector.
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  payload: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

describe('authenticate: shared secrets and Standard Webhooks', () => {
  let svc: TestService;
  before(async () => {
    svc = await startTestService({
      WEBHOOK_SECRETS: 'old-secret-123, new-secret-456',
      WEBHOOK_SIGNING_SECRET: VECTOR.secret,
    });
  });
  after(async () => svc.close());

  it('accepts every secret of WEBHOOK_SECRETS during a rotation', async () => {
    assert.equal((await svc.post(alert({ secret: 'old-secret-123', price: 1 }))).status, 200);
    assert.equal((await svc.post(alert({ secret: 'new-secret-456', price: 2 }))).status, 200);
    assert.equal((await svc.post(alert({ secret: 'new-secret-45', price: 3 }))).status, 401);
    assert.equal((await svc.post(alert({ secret: 'new-secret-4567', price: 4 }))).status, 401);
  });

  it('signs the spec test vector exactly as published (the library we verify with)', () => {
    const wh = new Webhook(VECTOR.secret);
    assert.equal(wh.sign(VECTOR.id, new Date(VECTOR.timestamp * 1000), VECTOR.payload), VECTOR.signature);
  });

  it('refuses the test vector itself: its timestamp is outside the 5-minute tolerance', async () => {
    const res = await svc.post(VECTOR.payload, {
      headers: { 'webhook-id': VECTOR.id, 'webhook-timestamp': String(VECTOR.timestamp), 'webhook-signature': VECTOR.signature },
    });
    assert.equal(res.status, 401);
    assert.equal(res.body.error.code, 'WH_ERR_AUTH_INVALID');
    assert.match(res.body.error.message, /too old/);
  });

  function signed(body: string, timestamp = Math.floor(Date.now() / 1000)) {
    const wh = new Webhook(VECTOR.secret);
    return {
      'webhook-id': 'msg_test_1',
      'webhook-timestamp': String(timestamp),
      'webhook-signature': wh.sign('msg_test_1', new Date(timestamp * 1000), body),
    };
  }

  it('accepts a body signed with WEBHOOK_SIGNING_SECRET and no body secret', async () => {
    const body = JSON.stringify({ ticker: 'SIGNED', action: 'buy', price: 10 });
    const res = await svc.post(body, { headers: signed(body) });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });

  it('accepts a signed text/plain KEY=VALUE body', async () => {
    const body = 'ticker=SIGNED2\naction=sell';
    const res = await svc.post(body, { contentType: 'text/plain', headers: signed(body) });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });

  it('refuses a tampered body, and a signature older than 5 minutes (moved timestamp)', async () => {
    const body = JSON.stringify({ ticker: 'SIGNED', action: 'buy', price: 11 });
    const headers = signed(body);
    const tampered = await svc.post(body.replace('11', '12'), { headers });
    assert.equal(tampered.status, 401);
    assert.equal(tampered.body.error.code, 'WH_ERR_AUTH_INVALID');
    const old = Math.floor(Date.now() / 1000) - 301;
    const stale = await svc.post(body, { headers: signed(body, old) });
    assert.equal(stale.status, 401);
    assert.match(stale.body.error.message, /too old/);
  });
});
