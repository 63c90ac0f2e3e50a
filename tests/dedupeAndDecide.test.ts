import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { alert, startTestService, type TestService } from './support/startTestService.js';
import { countJobs } from './support/jobQueue.js';

describe('decide and deduplicate', () => {
  let svc: TestService;
  before(async () => {
    svc = await startTestService({
      ALLOWED_SYMBOLS: 'BTCUSDT,NASDAQ:AAPL',
      MAX_QUANTITY: '10',
      MAX_NOTIONAL: '100000',
      MAX_ALERT_AGE_SECONDS: '30',
      DEDUPE_WINDOW_SECONDS: '60',
    });
  });
  after(async () => svc.close());

  it('20 identical alerts at once make exactly one signal and 19 duplicates', async () => {
    const body = alert({ price: 123.45, quantity: 1 });
    const answers = await Promise.all(Array.from({ length: 20 }, () => svc.post(body)));
    assert.deepEqual(answers.map((a) => a.status), Array(20).fill(200));
    const accepted = answers.filter((a) => a.body.status === 'accepted');
    const duplicates = answers.filter((a) => a.body.status === 'duplicate');
    assert.equal(accepted.length, 1);
    assert.equal(duplicates.length, 19);
    for (const d of duplicates) assert.equal(d.body.signalId, accepted[0]!.body.signalId);
    const { rows } = await svc.pool.query('SELECT count(*)::int AS n FROM signals WHERE price = 123.45');
    assert.equal(rows[0].n, 1);
    assert.equal(await countJobs(svc.pool, accepted[0]!.body.signalId), 1, 'one job enqueued with the signal');
  });

  it('treats the same normalised alert as new once the dedupe window has passed (moved timestamps)', async () => {
    const body = alert({ price: 200, quantity: 2 });
    const first = await svc.post(body);
    assert.equal(first.body.status, 'accepted');
    assert.equal((await svc.post(body)).body.status, 'duplicate');
    await svc.pool.query(
      "UPDATE signals SET received_at = received_at - interval '61 seconds', dedupe_until = dedupe_until - interval '61 seconds' WHERE id = $1",
      [first.body.signalId],
    );
    const later = await svc.post(body);
    assert.equal(later.body.status, 'accepted');
    assert.notEqual(later.body.signalId, first.body.signalId);
  });

  it('treats an explicit alert id as the same alert for ever, but not a reused order name at another time', async () => {
    const t1 = new Date().toISOString();
    const first = await svc.post(alert({ id: 'Long', time: t1, price: 300, quantity: 1 }));
    assert.equal(first.body.status, 'accepted');
    await svc.pool.query("UPDATE signals SET received_at = received_at - interval '10 days' WHERE id = $1", [first.body.signalId]);
    const resend = await svc.post(alert({ id: 'Long', time: t1, price: 301, quantity: 1 }));
    assert.equal(resend.body.status, 'duplicate');
    assert.equal(resend.body.signalId, first.body.signalId);
    const next = await svc.post(alert({ id: 'Long', time: new Date(Date.now() + 1000).toISOString(), price: 300, quantity: 1 }));
    assert.equal(next.body.status, 'accepted');
  });

  const declines: Array<[string, Record<string, unknown>]> = [
    ['symbol_not_allowed', { ticker: 'BINANCE:DOGEUSDT' }],
    ['quantity_above_limit', { quantity: 11 }],
    ['notional_above_limit', { quantity: 5, price: 30000 }],
    ['stale_alert', { time: new Date(Date.now() - 31_000).toISOString() }],
  ];
  for (const [reason, fields] of declines) {
    it(`declines with ${reason}, keeps the signal and enqueues nothing`, async () => {
      const res = await svc.post(alert({ quantity: 1, price: 10, ...fields }));
      assert.equal(res.status, 200);
      assert.equal(res.body.status, 'declined');
      assert.equal(res.body.reason, reason);
      const s = await svc.api(`/api/signals/${res.body.signalId}`);
      assert.equal(s.body.signal.status, 'declined');
      assert.equal(s.body.signal.declineReason, reason);
      assert.equal(await countJobs(svc.pool, res.body.signalId), 0);
    });
  }

  it('accepts an allowed symbol given with its exchange prefix', async () => {
    const res = await svc.post(alert({ ticker: 'NASDAQ:AAPL', quantity: 1, price: 190 }));
    assert.equal(res.body.status, 'accepted');
  });
});

describe('deduplicate every resend that the freshness checks would still accept', () => {
  const SIGNING = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  let svc: TestService;
  before(async () => {
    // A 1-second window: anything caught after it is caught by the signature tolerance or MAX_ALERT_AGE_SECONDS.
    svc = await startTestService({ WEBHOOK_SIGNING_SECRET: SIGNING, DEDUPE_WINDOW_SECONDS: '1', MAX_ALERT_AGE_SECONDS: '300' });
  });
  after(async () => svc.close());

  /** Moves a stored signal back in time, as if `seconds` had passed since it was received. */
  async function age(signalId: string, seconds: number) {
    await svc.pool.query(
      'UPDATE signals SET received_at = received_at - make_interval(secs => $2), dedupe_until = dedupe_until - make_interval(secs => $2) WHERE id = $1',
      [signalId, seconds],
    );
  }

  async function countFor(ticker: string) {
    const signals = await svc.pool.query('SELECT count(*)::int AS n FROM signals WHERE ticker = $1', [ticker]);
    const ids = await svc.pool.query('SELECT id::text FROM signals WHERE ticker = $1', [ticker]);
    return { signals: signals.rows[0].n, jobs: await countJobs(svc.pool, ids.rows.map((r) => r.id)) };
  }

  function signedRequest(id: string, body: string, timestamp: Date) {
    return {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': new Webhook(SIGNING).sign(id, timestamp, body),
    };
  }

  it('answers duplicate to the identical signed request resent after the window, within the 5-minute signature tolerance', async () => {
    const body = JSON.stringify({ ticker: 'SIGNEDDUP', action: 'buy', quantity: 1, price: 10 });
    const headers = signedRequest('msg_dedupe_1', body, new Date(Date.now() - 180_000));
    const first = await svc.post(body, { headers });
    assert.equal(first.body.status, 'accepted', JSON.stringify(first.body));
    await age(first.body.signalId, 5); // the 1-second window has passed; the signature is still valid
    const resend = await svc.post(body, { headers });
    assert.equal(resend.status, 200);
    assert.equal(resend.body.status, 'duplicate', JSON.stringify(resend.body));
    assert.equal(resend.body.signalId, first.body.signalId);
    assert.deepEqual(await countFor('SIGNEDDUP'), { signals: 1, jobs: 1 }, 'the resend executes nothing');
  });

  it('keys a signed message by its webhook-id: another message id with the same content is a new signal', async () => {
    const body = JSON.stringify({ ticker: 'SIGNEDNEW', action: 'buy', quantity: 1, price: 10 });
    const now = new Date();
    const first = await svc.post(body, { headers: signedRequest('msg_a', body, now) });
    const second = await svc.post(body, { headers: signedRequest('msg_b', body, now) });
    assert.equal(first.body.status, 'accepted');
    assert.equal(second.body.status, 'accepted');
    assert.deepEqual(await countFor('SIGNEDNEW'), { signals: 2, jobs: 2 });
  });

  it('answers duplicate to an unsigned alert resent after the window while MAX_ALERT_AGE_SECONDS still accepts its alert time', async () => {
    const body = alert({ ticker: 'TIMEDDUP', quantity: 1, price: 10, time: new Date(Date.now() - 60_000).toISOString() });
    const first = await svc.post(body);
    assert.equal(first.body.status, 'accepted', JSON.stringify(first.body));
    await age(first.body.signalId, 120); // two minutes later: the alert is 3 minutes old, under the 5-minute limit
    const resend = await svc.post(body);
    assert.equal(resend.body.status, 'duplicate', JSON.stringify(resend.body));
    assert.equal(resend.body.signalId, first.body.signalId);
    assert.deepEqual(await countFor('TIMEDDUP'), { signals: 1, jobs: 1 });
  });

  it('lets an unsigned alert without an alert time count as new once the window has passed', async () => {
    const body = alert({ ticker: 'UNTIMED', quantity: 1, price: 10 });
    const first = await svc.post(body);
    await age(first.body.signalId, 5);
    assert.equal((await svc.post(body)).body.status, 'accepted');
  });
});
