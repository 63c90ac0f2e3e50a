import { pino } from 'pino';
import { makePool } from '../src/db/makePool.js';
import { countStuckSignals } from '../src/monitoring/countStuckSignals.js';
import { detectPositionGaps } from '../src/monitoring/detectPositionGaps.js';
import { refreshStrategyActivity } from '../src/monitoring/refreshStrategyActivity.js';
import { TOUCH_OVERLAP_MS } from '../src/monitoring/startSignalWatch.js';
import { touchStrategyActivity } from '../src/monitoring/touchStrategyActivity.js';
import { createTestDatabase, startTestServer, stopTestServer } from '../tests/support/testDatabase.js';
import { processCpuSeconds } from './readProcCpu.js';
import { median } from './stats.js';

/**
 * `node dist/bench/signalWatchCost.js [signals] [rounds] [waiting]`: Postgres CPU of each statement of the signal
 * watch over `signals` signals spread evenly over the 7-day lookback (five strategies, five tickers, a position on
 * every other one), read from the backend's /proc: the gap detection, the full refresh that learns usual
 * intervals from the whole window, and the cheap run between two refreshes (the signals of the last minute
 * and TOUCH_OVERLAP_MS). Then what a minute of the watch costs at its defaults: once a refresh every run, now a
 * refresh every 15 runs. Last, the stuck-signal count (every run, and every health check) with `waiting` signals
 * queued for an hour, each with its job waiting (a worker down, or the bench's services, which run none): each of
 * them is looked up among the jobs.
 */
const signals = Number(process.argv[2] ?? 300_000);
const rounds = Number(process.argv[3] ?? 5);
const waiting = Number(process.argv[4] ?? 250_000);
const WEEK_MS = 7 * 86_400_000;
const INTERVAL_MS = 60_000;
const REFRESH_EVERY_RUNS = 15;

await startTestServer();
const db = await createTestDatabase();
const pool = makePool({ connectionString: db.url, max: 1, timeoutMs: 600_000, logger: pino({ level: 'silent' }) });
try {
  const now = Date.now();
  // Ids as the pipeline makes them: the UUIDv7 of the receipt time.
  await pool.query(
    `INSERT INTO signals (id, webhook_id, dedupe_key, dedupe_until, ticker, action, strategy, status, received_at, market_position, prev_market_position)
     SELECT (lpad(to_hex(t.ms), 12, '0') || '7000' || '8' || lpad(to_hex(i % 4096), 3, '0') || lpad(to_hex(i), 12, '0'))::uuid,
            gen_random_uuid(), 'k' || i, to_timestamp(t.ms / 1000.0) + interval '1 min',
            (ARRAY['BTCUSDT','ETHUSDT','AAPL','TSLA','EURUSD'])[1 + i % 5], 'buy', 'strategy-' || (i / 5) % 5, 'declined',
            to_timestamp(t.ms / 1000.0),
            CASE WHEN i % 2 = 0 THEN (ARRAY['long','flat'])[1 + (i / 50) % 2] END,
            CASE WHEN i % 2 = 0 THEN (ARRAY['flat','long'])[1 + (i / 50) % 2] END
       FROM generate_series(0, $1::int - 1) i, LATERAL (SELECT ($2::bigint + (i::bigint * $3::bigint) / $1::int) AS ms) t`,
    [signals, now - WEEK_MS + 60_000, WEEK_MS - 120_000],
  );
  await pool.query('VACUUM ANALYZE signals');
  const backend = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  /** CPU a call (ms), over `times` calls: /proc counts in 10 ms ticks, longer than a cheap run takes. */
  const cpuMs = async (work: () => Promise<unknown>, times = 1): Promise<number> => {
    const before = await processCpuSeconds(backend);
    for (let i = 0; i < times; i += 1) await work();
    return Number(((((await processCpuSeconds(backend)) - before) * 1000) / times).toFixed(2));
  };
  const figures: Record<'gaps' | 'refresh' | 'touch', number[]> = { gaps: [], refresh: [], touch: [] };
  for (let round = 0; round < rounds; round += 1) {
    figures.gaps.push(await cpuMs(() => detectPositionGaps(pool, { lookbackMs: WEEK_MS })));
    figures.refresh.push(await cpuMs(() => refreshStrategyActivity(pool, { lookbackMs: WEEK_MS })));
    figures.touch.push(await cpuMs(() => touchStrategyActivity(pool, { since: new Date(Date.now() - INTERVAL_MS - TOUCH_OVERLAP_MS) }), 200));
    console.log(`round ${round + 1}: gaps ${figures.gaps.at(-1)} ms, full refresh ${figures.refresh.at(-1)} ms, cheap run ${figures.touch.at(-1)} ms of Postgres CPU`);
  }
  // The waiting signals and their jobs, as the signal writer stores them (add_jobs, a queue per ticker), 5,000 a statement.
  for (let from = 0; from < waiting; from += 5_000) {
    await pool.query(
      `WITH s AS (
         INSERT INTO signals (id, webhook_id, dedupe_key, dedupe_until, ticker, action, status, received_at, updated_at)
         SELECT u, u, 'w:' || u::text, now(), (ARRAY['BTCUSDT','ETHUSDT','AAPL','TSLA','EURUSD'])[1 + i % 5], 'buy', 'queued',
                now() - interval '1 hour', now() - interval '1 hour'
           FROM generate_series($1::int, $2::int - 1) i, LATERAL (SELECT gen_random_uuid() AS u WHERE i >= 0) g
         RETURNING id, ticker)
       SELECT count(*) FROM graphile_worker.add_jobs((
         SELECT array_agg(ROW('execute_signal', json_build_object('signalId', id::text), 'symbol:' || ticker, NULL, 25, id::text, NULL, NULL)::graphile_worker.job_spec)
           FROM s))`,
      [from, Math.min(waiting, from + 5_000)],
    );
  }
  await pool.query('VACUUM ANALYZE');
  const stuckFigures: number[] = [];
  for (let round = 0; round < rounds; round += 1) stuckFigures.push(await cpuMs(() => countStuckSignals(pool, 60, 403)));
  console.log(`stuck-signal count with ${waiting} signals waiting for an hour: ${stuckFigures.join(' / ')} ms of Postgres CPU (median ${median(stuckFigures)} ms)`);
  const [gaps, refresh, touch] = [median(figures.gaps), median(figures.refresh), median(figures.touch)];
  const before = gaps + refresh;
  const after = gaps + (refresh + (REFRESH_EVERY_RUNS - 1) * touch) / REFRESH_EVERY_RUNS;
  console.log(
    `${signals} signals over 7 days, medians (lower middle) of ${rounds} rounds: gaps ${gaps} ms, full refresh ${refresh} ms, cheap run ${touch} ms; ` +
      `a run every minute: ${before} ms of Postgres CPU a minute with a full refresh every run, ${after.toFixed(0)} ms with one every ${REFRESH_EVERY_RUNS} runs (${(after / before).toFixed(2)} x)`,
  );
} finally {
  await pool.end();
  await db.drop();
  await stopTestServer();
}
