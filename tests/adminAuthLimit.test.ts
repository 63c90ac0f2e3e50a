import assert from 'node:assert/strict';
import { sampleValue } from './support/metricsText.js';
import { requestFrom } from './support/requestFrom.js';
import { startTestService, TEST_ADMIN_TOKEN, type TestService } from './support/startTestService.js';

/** Guessing the admin token: failures are counted per client address and capped, with no database work. */
describe('admin token: failed attempts are limited per client', function () {
  this.timeout(60_000);
  let svc: TestService;
  before(async () => {
    svc = await startTestService({ ADMIN_AUTH_MAX_FAILURES: '3', ADMIN_AUTH_WINDOW_SECONDS: '300' });
  });
  after(async () => svc.close());

  const getSignals = (localAddress: string, token?: string) =>
    requestFrom({
      url: `${svc.url}/api/signals`,
      method: 'GET',
      localAddress,
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    });
  const metrics = async () => (await requestFrom({ url: `${svc.opsUrl}/metrics`, method: 'GET' })).text;

  it('answers 401 up to ADMIN_AUTH_MAX_FAILURES wrong tokens, then 429 with Retry-After even for the right token', async () => {
    let acquired = 0;
    svc.pool.on('acquire', () => (acquired += 1));
    for (let i = 0; i < 3; i++) {
      const res = await getSignals('127.0.0.2', `wrong-token-${i}-0123456789`);
      assert.equal(res.status, 401);
      assert.equal(res.json.error.code, 'WH_ERR_UNAUTHORIZED');
    }
    const limited = await getSignals('127.0.0.2', 'wrong-token-3-0123456789');
    assert.equal(limited.status, 429, limited.text);
    assert.equal(limited.json.error.code, 'WH_ERR_RATE_LIMITED');
    assert.match(limited.json.error.message, /127\.0\.0\.2.*ADMIN_AUTH_MAX_FAILURES/);
    const retryAfter = Number(limited.headers['retry-after']);
    assert.ok(retryAfter > 0 && retryAfter <= 300, `Retry-After ${limited.headers['retry-after']}`);
    // The right token does not get through either, so the number of guesses per window is capped.
    const right = await getSignals('127.0.0.2', TEST_ADMIN_TOKEN);
    assert.equal(right.status, 429);
    assert.equal(right.text.includes(TEST_ADMIN_TOKEN), false, 'the token is never echoed');
    assert.equal(acquired, 0, 'refusals cost no database work');
  });

  it('keeps a separate budget per client address', async () => {
    assert.equal((await getSignals('127.0.0.3', TEST_ADMIN_TOKEN)).status, 200);
    assert.equal((await getSignals('127.0.0.3', 'wrong-token-x-0123456789')).status, 401);
    assert.equal((await getSignals('127.0.0.3', TEST_ADMIN_TOKEN)).status, 200);
  });

  it('does not count a request without a token as a guess', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await getSignals('127.0.0.4')).status, 401);
    assert.equal((await getSignals('127.0.0.4', TEST_ADMIN_TOKEN)).status, 200);
  });

  it('counts failures by outcome in admin_auth_failures_total', async () => {
    const text = await metrics();
    assert.equal(sampleValue(text, 'admin_auth_failures_total', { outcome: 'invalid' }), 4);
    assert.equal(sampleValue(text, 'admin_auth_failures_total', { outcome: 'rate_limited' }), 2);
    assert.equal(sampleValue(text, 'admin_auth_failures_total', { outcome: 'missing' }), 5);
  });
});
