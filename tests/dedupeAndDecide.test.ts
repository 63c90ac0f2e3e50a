import assert from 'node:assert/strict';
import { alert, startTestService, type TestService } from './support/startTestService.js';

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
    const jobs = await svc.pool.query("SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE key = $1", [accepted[0]!.body.signalId]);
    assert.equal(jobs.rows[0].n, 1, 'one job enqueued with the signal');
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
      const jobs = await svc.pool.query('SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE key = $1', [res.body.signalId]);
      assert.equal(jobs.rows[0].n, 0);
    });
  }

  it('accepts an allowed symbol given with its exchange prefix', async () => {
    const res = await svc.post(alert({ ticker: 'NASDAQ:AAPL', quantity: 1, price: 190 }));
    assert.equal(res.body.status, 'accepted');
  });
});
