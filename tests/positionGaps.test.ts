import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { LIVE_SQL } from '../grafana/src/liveDashboard.js';
import { MISSED_SQL } from '../grafana/src/missedAndSilentRow.js';
import { projectRoot } from '../src/db/projectRoot.js';
import { detectPositionGaps } from '../src/monitoring/detectPositionGaps.js';
import { refreshStrategyActivity } from '../src/monitoring/refreshStrategyActivity.js';
import { alertTemplate } from '../src/printBanner.js';
import { sampleValue, scrape } from './support/metricsText.js';
import { alert, startTestService, TEST_SECRET, type TestService } from './support/startTestService.js';
import { waitFor } from './support/waitFor.js';

const WEEK_MS = 7 * 86_400_000;
/** Alert times an hour back, a minute apart: the chain is ordered by them, not by arrival. */
const base = Date.now() - 3_600_000;
const at = (minute: number) => new Date(base + minute * 60_000).toISOString();

/** A strategy alert as the printed template sends it: position, size, and what came before. */
function strategyAlert(strategy: string, minute: number, action: string, position: string, size: number, prev?: { position: string; size: number }, ticker = 'BINANCE:BTCUSDT') {
  return alert({
    ticker,
    action,
    quantity: '1',
    strategy,
    time: at(minute),
    market_position: position,
    position_size: String(size),
    ...(prev ? { prev_market_position: prev.position, prev_market_position_size: String(prev.size) } : {}),
  });
}

describe('position gaps: alerts TradingView never sent, inferred from the position chain', function () {
  this.timeout(60_000);
  let svc: TestService;

  before(async () => {
    // The periodic run is far away: each test runs the detection itself, when the alerts it needs have arrived.
    svc = await startTestService({ SIGNAL_WATCH_INTERVAL_MS: '3600000' });
  });
  after(async () => svc?.close());

  async function send(...bodies: Record<string, unknown>[]) {
    for (const body of bodies) {
      const r = await svc.post(body);
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
  }
  const detect = () => detectPositionGaps(svc.pool, { lookbackMs: WEEK_MS });
  const gapsOf = async (strategy: string, state = 'open') => {
    const r = await svc.api(`/api/monitoring/gaps?strategy=${encodeURIComponent(strategy)}&state=${state}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.gaps as any[];
  };

  it('a missed entry: the exit says the position was long, the last alert left it flat', async () => {
    await send(
      strategyAlert('missed-entry', 0, 'buy', 'long', 1, { position: 'flat', size: 0 }),
      strategyAlert('missed-entry', 5, 'sell', 'flat', 0, { position: 'long', size: 1 }),
      // The entry at minute 10 never arrives; the exit at minute 15 says what came before it.
      strategyAlert('missed-entry', 15, 'sell', 'flat', 0, { position: 'long', size: 1 }),
    );
    await detect();
    const gaps = await gapsOf('missed-entry');
    assert.equal(gaps.length, 1);
    const [gap] = gaps;
    assert.equal(gap.ticker, 'BTCUSDT');
    assert.equal(gap.state, 'open');
    assert.deepEqual([gap.lastReceived.position, gap.senderSaysBefore.position], ['flat', 'long']);
    assert.deepEqual(gap.window, { from: at(5), to: at(15) });
  });

  it('a missed exit: the next entry says the position was flat, the last alert left it long', async () => {
    await send(
      strategyAlert('missed-exit', 0, 'buy', 'long', 2, { position: 'flat', size: 0 }),
      strategyAlert('missed-exit', 20, 'buy', 'long', 2, { position: 'flat', size: 0 }),
    );
    await detect();
    const gaps = await gapsOf('missed-exit');
    assert.deepEqual(gaps.map((g) => [g.lastReceived.position, g.lastReceived.positionSize, g.senderSaysBefore.position]), [['long', 2, 'flat']]);
  });

  it('a reversal (long to short in one alert) is no gap; a missed add to a position is one (sizes disagree)', async () => {
    await send(
      strategyAlert('reversal', 0, 'buy', 'long', 1, { position: 'flat', size: 0 }),
      // Reversal: one alert, sell 2, from long 1 to short 1 (position_size is signed).
      strategyAlert('reversal', 5, 'sell', 'short', -1, { position: 'long', size: 1 }),
      strategyAlert('reversal', 10, 'buy', 'flat', 0, { position: 'short', size: 1 }),
      strategyAlert('pyramid', 0, 'buy', 'long', 1, { position: 'flat', size: 0 }),
      // The add from 1 to 2 never arrived: this add says the position was long 2.
      strategyAlert('pyramid', 10, 'buy', 'long', 3, { position: 'long', size: 2 }),
    );
    await detect();
    assert.deepEqual(await gapsOf('reversal'), []);
    const pyramid = await gapsOf('pyramid');
    assert.deepEqual(pyramid.map((g) => [g.lastReceived.positionSize, g.senderSaysBefore.positionSize]), [[1, 2]]);
  });

  it('a resend that arrives late fills the gap and closes it', async () => {
    await send(
      strategyAlert('late', 0, 'buy', 'long', 1, { position: 'flat', size: 0 }),
      strategyAlert('late', 10, 'buy', 'long', 1, { position: 'flat', size: 0 }),
    );
    await detect();
    const open = await gapsOf('late');
    assert.equal(open.length, 1);
    // The exit of minute 5 arrives now (TradingView resent it, or it was delayed): by its alert time it sits between.
    await send(strategyAlert('late', 5, 'sell', 'flat', 0, { position: 'long', size: 1 }));
    const run = await detect();
    assert.ok(run.closed >= 1);
    assert.deepEqual(await gapsOf('late'), []);
    const closed = await gapsOf('late', 'closed');
    assert.equal(closed.length, 1);
    assert.equal(closed[0].senderSaysBefore.signalId, open[0].senderSaysBefore.signalId);
    assert.ok(closed[0].closedAt);
  });

  it('two strategies on one ticker have a chain each', async () => {
    await send(
      strategyAlert('pair-a', 0, 'buy', 'long', 1, { position: 'flat', size: 0 }, 'NASDAQ:AAPL'),
      strategyAlert('pair-b', 1, 'sell', 'short', -1, { position: 'flat', size: 0 }, 'NASDAQ:AAPL'),
      strategyAlert('pair-a', 2, 'sell', 'flat', 0, { position: 'long', size: 1 }, 'NASDAQ:AAPL'),
      strategyAlert('pair-b', 3, 'buy', 'flat', 0, { position: 'short', size: 1 }, 'NASDAQ:AAPL'),
    );
    await detect();
    assert.deepEqual(await gapsOf('pair-a'), []);
    assert.deepEqual(await gapsOf('pair-b'), []);
  });

  it('alerts without position fields take no part: no gap, whatever their order', async () => {
    await send(
      alert({ strategy: 'plain', action: 'buy', time: at(0) }),
      alert({ strategy: 'plain', action: 'buy', time: at(1), price: '50001' }),
      alert({ strategy: 'plain', action: 'sell', time: at(2) }),
      // A position without the previous one is a link of the chain but reveals nothing itself.
      alert({ strategy: 'plain', action: 'buy', time: at(3), market_position: 'long' }),
      alert({ strategy: 'plain', action: 'buy', time: at(4), market_position: 'long', price: '50002' }),
    );
    await detect();
    assert.deepEqual(await gapsOf('plain'), []);
  });

  it('/metrics counts open gaps per strategy, and the nested strategy object of the widely copied template works too', async () => {
    await send(
      alert({ ticker: 'BINANCE:ETHUSDT', time: at(0), strategy: { name: 'nested', order_action: 'buy', order_contracts: '1', market_position: 'long', position_size: '1', prev_market_position: 'flat', prev_market_position_size: '0' } }),
      alert({ ticker: 'BINANCE:ETHUSDT', time: at(9), strategy: { name: 'nested', order_action: 'buy', order_contracts: '1', market_position: 'long', position_size: '1', prev_market_position: 'flat', prev_market_position_size: '0' } }),
    );
    await detect();
    await refreshStrategyActivity(svc.pool, { lookbackMs: WEEK_MS });
    assert.equal((await gapsOf('nested')).length, 1);
    const text = await scrape(svc.opsUrl);
    assert.equal(sampleValue(text, 'tradingview_watch_errors_total'), 0);
    assert.equal(sampleValue(text, 'tradingview_position_gaps_open', { strategy: 'nested' }), 1);
    assert.equal(sampleValue(text, 'tradingview_position_gaps_open', { strategy: 'missed-entry' }), 1);
    assert.equal(sampleValue(text, 'tradingview_position_gaps_open', { strategy: 'reversal' }), 0);
    assert.match(text, /tradingview_position_gaps_open\{strategy="reversal"\} 0/);
  });

  it('the printed alert template, filled in as TradingView does, carries the position chain', async () => {
    const filled = alertTemplate(TEST_SECRET)
      .replace('{{exchange}}:{{ticker}}', 'BINANCE:SOLUSDT').replace('{{strategy.order.action}}', 'sell')
      .replace('{{strategy.order.contracts}}', '2').replace('{{close}}', '150').replace('{{timenow}}', at(30))
      .replace('{{interval}}', '5').replace('{{strategy.market_position}}', 'short').replace('{{strategy.position_size}}', '-1')
      .replace('{{strategy.prev_market_position}}', 'long').replace('{{strategy.prev_market_position_size}}', '1');
    assert.doesNotMatch(filled, /\{\{/, 'every placeholder of the template is one TradingView fills');
    const r = await svc.post(filled);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const { signal } = (await svc.api(`/api/signals/${r.body.signalId}`)).body;
    assert.deepEqual([signal.marketPosition, signal.positionSize, signal.prevMarketPosition, signal.prevPositionSize], ['short', -1, 'long', 1]);
  });

  it('the dashboards\' gap table and live table run as grafana_reader: open gaps first, then the closed ones', async () => {
    const reader = new pg.Client({ connectionString: svc.db.url });
    await reader.connect();
    try {
      await reader.query(await readFile(path.join(projectRoot(), 'postgres', 'initdb', '10-grafana-reader.sql'), 'utf8'));
      await reader.query('SET ROLE grafana_reader');
      const range = `created_at BETWEEN '${new Date(Date.now() - 3_600_000).toISOString()}' AND '${new Date(Date.now() + 60_000).toISOString()}'`;
      const gaps = (await reader.query(MISSED_SQL.gaps.replace('$__timeFilter(window_end)', range.replace('created_at', 'window_end')))).rows;
      const states = gaps.map((g) => g.state);
      assert.ok(states.includes('open') && states.includes('closed'));
      assert.deepEqual(states, [...states].sort().reverse(), 'open before closed');
      assert.ok(gaps.some((g) => g.strategy === 'missed-entry' && g.last_received === 'flat' && g.sender_says_before === 'long'));
      // The records are written by the sink in batches, off the request path: wait for this service's to land.
      await svc.telemetry.sink!.flushOnce();
      const latest = await waitFor(async () => {
        const rows = (await reader.query(LIVE_SQL.latest.replace('$__timeFilter(created_at)', range))).rows;
        return rows.length > 0 ? rows : undefined;
      }, { what: 'the live table\'s rows' });
      assert.ok(latest.length > 0 && latest.length <= 50);
    } finally {
      await reader.end();
    }
  });

  it('refuses a bad filter with a clear 400', async () => {
    const r = await svc.api('/api/monitoring/gaps?state=maybe');
    assert.equal(r.status, 400);
    assert.match(JSON.stringify(r.body), /state/);
  });
});
