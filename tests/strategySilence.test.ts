import assert from 'node:assert/strict';
import { refreshStrategyActivity } from '../src/monitoring/refreshStrategyActivity.js';
import { insertHistory } from './support/insertSignalAt.js';
import { sampleValue, scrape } from './support/metricsText.js';
import { startTestService, type TestService } from './support/startTestService.js';

const WEEK_MS = 7 * 86_400_000;
const MINUTE = 60_000;

async function history(svc: TestService, strategy: string | null, count: number, everyMs: number, lastAt: number): Promise<void> {
  await insertHistory(svc.pool, strategy, count, everyMs, lastAt);
}

describe('strategy silence: each strategy\'s usual interval is learned from its own history', function () {
  this.timeout(60_000);
  let svc: TestService;
  const now = Date.now();

  before(async () => {
    svc = await startTestService({ SIGNAL_WATCH_INTERVAL_MS: '3600000', STRATEGY_LABELS_MAX: '3' });
    // Every 5 minutes for a day and a half, quiet for the last 2 hours.
    await history(svc, 'every-5m', 400, 5 * MINUTE, now - 120 * MINUTE);
    // Hourly, with a night off: the median ignores the long gap.
    await history(svc, 'hourly', 10, 60 * MINUTE, now - 30 * MINUTE);
    await history(svc, 'hourly', 10, 60 * MINUTE, now - 24 * 60 * MINUTE);
    // Too few alerts to learn anything.
    await history(svc, 'new-one', 3, 10 * MINUTE, now - 5 * MINUTE);
    // Stopped more than a week ago: forgotten.
    await history(svc, 'retired', 20, 5 * MINUTE, now - 8 * 24 * 60 * MINUTE);
    // Alerts that name no strategy, and a strategy with characters a label should not carry.
    await history(svc, null, 6, 2 * MINUTE, now - 60 * MINUTE);
    await history(svc, 'weird "name"\nwith\u00e9', 2, MINUTE, now - 24 * 60 * MINUTE);
  });
  after(async () => svc?.close());

  it('learns the median interval over the window, the last alert time, and forgets strategies silent for longer than it', async () => {
    // Two days ago, the retired strategy was still inside the window.
    await refreshStrategyActivity(svc.pool, { lookbackMs: WEEK_MS, now: new Date(now - 2 * 86_400_000) });
    assert.equal((await svc.pool.query(`SELECT usual_interval_seconds AS usual FROM strategy_activity WHERE strategy = 'retired'`)).rows[0]?.usual, 300);
    await refreshStrategyActivity(svc.pool, { lookbackMs: WEEK_MS, now: new Date(now) });
    const rows = (await svc.pool.query(`SELECT strategy, EXTRACT(EPOCH FROM last_signal_at)::float8 AS last, usual_interval_seconds AS usual, intervals
                                          FROM strategy_activity ORDER BY strategy`)).rows;
    const by = Object.fromEntries(rows.map((r) => [r.strategy, r]));
    assert.deepEqual(Object.keys(by).sort(), ['', 'every-5m', 'hourly', 'new-one', 'weird "name"\nwith\u00e9']);
    assert.equal(by['every-5m'].usual, 300);
    assert.equal(by['every-5m'].intervals, 399);
    assert.ok(Math.abs(by['every-5m'].last - (now - 120 * MINUTE) / 1000) < 0.01);
    assert.equal(by.hourly.usual, 3600, 'the night off does not move the median');
    assert.equal(by['new-one'].intervals, 2);
    assert.equal(by[''].usual, 120);
  });

  it('/metrics reports the most recent STRATEGY_LABELS_MAX strategies with sanitised names, counts the rest, and a usual interval only once learned', async () => {
    await refreshStrategyActivity(svc.pool, { lookbackMs: WEEK_MS, now: new Date(now) });
    const text = await scrape(svc.opsUrl);
    const labelled = [...text.matchAll(/^tradingview_strategy_last_signal_timestamp_seconds\{strategy="([^"]*)"\}/gm)].map((m) => m[1]).sort();
    // The three most recently active: new-one (5 min ago), hourly (30 min), unnamed (60 min); every-5m and the weird one are left out.
    assert.deepEqual(labelled, ['hourly', 'new-one', 'unnamed']);
    assert.equal(sampleValue(text, 'tradingview_strategies_left_out'), 2);
    assert.equal(sampleValue(text, 'tradingview_strategy_usual_interval_seconds', { strategy: 'hourly' }), 3600);
    assert.equal(sampleValue(text, 'tradingview_strategy_usual_interval_seconds', { strategy: 'unnamed' }), 120);
    assert.doesNotMatch(text, /tradingview_strategy_usual_interval_seconds\{strategy="new-one"\}/, 'two intervals teach nothing');
    assert.equal(sampleValue(text, 'tradingview_position_gaps_open', { strategy: 'other' }), 0);
    assert.match(text, /tradingview_position_gaps_open\{strategy="other"\} 0/, 'left-out strategies are reported together');
  });

  it('a name that is not plain text becomes a bounded, plain label value', async () => {
    const wide = await startTestService({ SIGNAL_WATCH_INTERVAL_MS: '3600000', STRATEGY_LABELS_MAX: '50' }, { db: svc.db });
    try {
      await refreshStrategyActivity(svc.pool, { lookbackMs: WEEK_MS, now: new Date(now) });
      const text = await scrape(wide.opsUrl);
      assert.match(text, /tradingview_strategy_last_signal_timestamp_seconds\{strategy="weird _name__with_"\}/);
      assert.match(text, /tradingview_strategy_usual_interval_seconds\{strategy="every-5m"\} 300/);
    } finally {
      await wide.stop();
    }
  });
});
