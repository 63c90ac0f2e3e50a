import assert from 'node:assert/strict';
import { applyFill } from '../src/execution/applyFill.js';
import { alert, startTestService, type TestService } from './support/startTestService.js';
import { waitFor } from './support/waitFor.js';

describe('paper executor', () => {
  let svc: TestService;
  before(async () => {
    svc = await startTestService({ WORKER_ENABLED: 'true', EXECUTOR: 'paper', WORKER_POLL_INTERVAL_MS: '100' });
  });
  after(async () => svc.close());

  async function send(fields: Record<string, unknown>) {
    const res = await svc.post(alert({ ticker: 'BINANCE:ETHUSDT', ...fields }));
    assert.equal(res.body.status, 'accepted', JSON.stringify(res.body));
    return waitFor(async () => {
      const r = await svc.api(`/api/signals/${res.body.signalId}`);
      return ['executed', 'failed'].includes(r.body.signal.status) ? r.body : undefined;
    }, { what: `signal ${res.body.signalId} to settle` });
  }

  async function position() {
    const res = await svc.api('/api/positions');
    return res.body.positions.find((p: any) => p.ticker === 'ETHUSDT');
  }

  it('fills buys, sells and closes at the signal price and keeps PnL', async () => {
    let settled = await send({ action: 'buy', quantity: 2, price: 100 });
    assert.equal(settled.signal.status, 'executed');
    assert.equal(settled.executions.length, 1);
    assert.equal(settled.executions[0].outcome, 'filled');
    assert.equal(settled.executions[0].price, 100);
    assert.equal(settled.executions[0].quantity, 2);
    assert.deepEqual(await position().then((p) => [p.quantity, p.averagePrice, p.realizedPnl, p.side]), [2, 100, 0, 'long']);

    await send({ action: 'buy', quantity: 2, price: 110 });
    assert.deepEqual(await position().then((p) => [p.quantity, p.averagePrice, p.realizedPnl]), [4, 105, 0]);

    await send({ action: 'sell', quantity: 1, price: 120 });
    assert.deepEqual(await position().then((p) => [p.quantity, p.averagePrice, p.realizedPnl]), [3, 105, 15]);

    // Sell more than is held: closes the long (3 x +5 = 15 more) and opens a short of 2 at 110.
    await send({ action: 'sell', quantity: 5, price: 110 });
    assert.deepEqual(await position().then((p) => [p.quantity, p.averagePrice, p.realizedPnl, p.side]), [-2, 110, 30, 'short']);

    // Buy against the short covers it first: 1 x (110 - 100) = 10.
    await send({ action: 'buy', quantity: 1, price: 100 });
    assert.deepEqual(await position().then((p) => [p.quantity, p.averagePrice, p.realizedPnl]), [-1, 110, 40]);

    settled = await send({ action: 'close', price: 90, quantity: undefined });
    assert.equal(settled.executions[0].quantity, 1);
    assert.deepEqual(await position().then((p) => [p.quantity, p.averagePrice, p.realizedPnl, p.side]), [0, 0, 60, 'flat']);

    const listed = await svc.api('/api/executions?ticker=ETHUSDT');
    assert.equal(listed.body.executions.length, 6);
    assert.ok(listed.body.executions.every((e: any) => e.executor === 'paper' && e.outcome === 'filled'));
  });

  it('fails a signal without a price at once, with a clear reason', async () => {
    const settled = await send({ action: 'buy', quantity: 1, price: undefined });
    assert.equal(settled.signal.status, 'failed');
    assert.equal(settled.signal.attempts, 1);
    assert.match(settled.signal.lastError, /no price/);
    assert.equal(settled.executions[0].outcome, 'failed');
  });

  it('keeps a closed position listed with quantity 0', async () => {
    const p = await position();
    assert.equal(p.quantity, 0);
    assert.equal(p.realizedPnl, 60);
  });
});

describe('applyFill', () => {
  it('closing a flat book changes nothing', () => {
    assert.deepEqual(applyFill({ quantity: 0, averagePrice: 0, realizedPnl: 5 }, 'close', null, 10), {
      delta: 0,
      position: { quantity: 0, averagePrice: 0, realizedPnl: 5 },
    });
  });
  it('a short sold further averages its entry price', () => {
    const fill = applyFill({ quantity: -1, averagePrice: 100, realizedPnl: 0 }, 'sell', 1, 110);
    assert.deepEqual(fill.position, { quantity: -2, averagePrice: 105, realizedPnl: 0 });
  });
  it('rounds away floating-point noise', () => {
    const fill = applyFill({ quantity: 0.1, averagePrice: 0.2, realizedPnl: 0 }, 'buy', 0.2, 0.1);
    assert.equal(fill.position.quantity, 0.3);
  });
});
