import assert from 'node:assert/strict';
import { alert, startTestService, TEST_SECRET, type TestService } from './support/startTestService.js';

describe('webhook endpoint: payload shapes and aliases', () => {
  let svc: TestService;
  before(async () => {
    svc = await startTestService();
  });
  after(async () => svc.close());

  async function signalOf(answer: { body: { signalId: string } }) {
    const res = await svc.api(`/api/signals/${answer.body.signalId}`);
    assert.equal(res.status, 200);
    return res.body.signal;
  }

  it('accepts application/json and stores the normalised signal', async () => {
    const res = await svc.post(alert({ strategy: 'trend', interval: '15', time: '2026-11-28T10:00:00Z' }));
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'accepted');
    assert.match(res.body.webhookId, /^[0-9a-f-]{36}$/);
    const s = await signalOf(res);
    assert.equal(s.ticker, 'BTCUSDT');
    assert.equal(s.exchange, 'BINANCE');
    assert.equal(s.action, 'buy');
    assert.equal(s.quantity, 0.5);
    assert.equal(s.price, 50000);
    assert.equal(s.strategy, 'trend');
    assert.equal(s.interval, '15');
    assert.equal(s.alertTime, '2026-11-28T10:00:00.000Z');
    assert.equal(s.status, 'queued');
    assert.equal(s.webhookId, res.body.webhookId);
    assert.equal(JSON.stringify(s).includes(TEST_SECRET), false, 'the secret is not stored');
  });

  it('accepts JSON sent as text/plain (TradingView behaviour)', async () => {
    const res = await svc.post(JSON.stringify(alert({ ticker: 'ETHUSD' })), { contentType: 'text/plain; charset=utf-8' });
    assert.equal(res.status, 200);
    assert.equal((await signalOf(res)).ticker, 'ETHUSD');
  });

  for (const [name, text] of [
    ['newlines', `secret=${TEST_SECRET}\nticker=NASDAQ:AAPL\naction=SELL\nqty=3\nprice=190.5`],
    ['semicolons', `secret=${TEST_SECRET};ticker=NASDAQ:AAPL;action=SELL;qty=3;price=190.5`],
    ['commas', `secret=${TEST_SECRET},ticker=NASDAQ:AAPL,action=SELL,qty=3,price=190.5`],
  ]) {
    it(`accepts KEY=VALUE text separated by ${name}`, async () => {
      const res = await svc.post(text, { contentType: 'text/plain' });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const s = await signalOf(res);
      assert.deepEqual([s.exchange, s.ticker, s.action, s.quantity, s.price], ['NASDAQ', 'AAPL', 'sell', 3, 190.5]);
      // Distinct prices per case would otherwise be needed: each case is a new alert only by the dedupe window.
      await svc.pool.query('DELETE FROM signals');
    });
  }

  it('reads the nested strategy object of the widely copied template', async () => {
    const res = await svc.post({
      passphrase: TEST_SECRET,
      ticker: 'BYBIT:SOLUSDT',
      time: '2026-11-28T11:00:00Z',
      strategy: {
        order_action: 'Sell',
        order_contracts: '12',
        order_price: '101.25',
        order_id: 'Short Entry',
        market_position: 'short',
        position_size: '-12',
      },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const s = await signalOf(res);
    assert.deepEqual(
      [s.ticker, s.action, s.quantity, s.price, s.orderId, s.marketPosition, s.positionSize],
      ['SOLUSDT', 'sell', 12, 101.25, 'Short Entry', 'short', -12],
    );
  });

  const aliasCases: Array<[string, Record<string, unknown>, (s: any) => void]> = [
    ['symbol', { ticker: undefined, symbol: 'XAUUSD' }, (s) => assert.equal(s.ticker, 'XAUUSD')],
    ['instrument', { ticker: undefined, INSTRUMENT: 'EURUSD' }, (s) => assert.equal(s.ticker, 'EURUSD')],
    ['side', { action: undefined, side: 'long' }, (s) => assert.equal(s.action, 'buy')],
    ['direction', { action: undefined, Direction: 'short' }, (s) => assert.equal(s.action, 'sell')],
    ['signal', { action: undefined, signal: 'EXIT' }, (s) => assert.equal(s.action, 'close')],
    ['order_action', { action: undefined, order_action: 'flat' }, (s) => assert.equal(s.action, 'close')],
    ['qty', { quantity: undefined, qty: 7 }, (s) => assert.equal(s.quantity, 7)],
    ['contracts', { quantity: undefined, contracts: '8' }, (s) => assert.equal(s.quantity, 8)],
    ['size', { quantity: undefined, size: '9' }, (s) => assert.equal(s.quantity, 9)],
    ['order_contracts', { quantity: undefined, orderContracts: '10' }, (s) => assert.equal(s.quantity, 10)],
    ['close', { price: undefined, close: '1.5' }, (s) => assert.equal(s.price, 1.5)],
    ['order_price', { price: undefined, order_price: 2.5 }, (s) => assert.equal(s.price, 2.5)],
    ['timenow', { timenow: '2026-11-28T12:00:00Z' }, (s) => assert.equal(s.alertTime, '2026-11-28T12:00:00.000Z')],
    ['timestamp (epoch ms)', { timestamp: Date.UTC(2026, 10, 28, 13) }, (s) => assert.equal(s.alertTime, '2026-11-28T13:00:00.000Z')],
    ['alert_id', { alert_id: 'a-1' }, (s) => assert.equal(s.alertId, 'a-1')],
    ['order_id', { order_id: 'o-1' }, (s) => assert.equal(s.alertId, 'o-1')],
  ];
  for (const [name, fields, check] of aliasCases) {
    it(`maps the alias ${name}`, async () => {
      const body = alert({ ...fields, price: fields.price === undefined && 'price' in fields ? undefined : Math.random() * 1000 });
      for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
      const res = await svc.post(body);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      check(await signalOf(res));
    });
  }

  it('keeps fields it does not interpret in extra', async () => {
    const res = await svc.post(alert({ comment: 'breakout', leverage: 3 }));
    const s = await signalOf(res);
    assert.deepEqual(s.extra, { comment: 'breakout', leverage: 3 });
  });
});
