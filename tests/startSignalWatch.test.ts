import assert from 'node:assert/strict';
import { pino } from 'pino';
import { makePool, type Pool } from '../src/db/makePool.js';
import { startSignalWatch } from '../src/monitoring/startSignalWatch.js';
import { insertHistory, insertSignalAt } from './support/insertSignalAt.js';
import { createTestDatabase } from './support/testDatabase.js';

const WEEK_MS = 7 * 86_400_000;
const MINUTE = 60_000;

interface Activity {
  last: number;
  usual: number | null;
  intervals: number;
}

async function activity(pool: Pool): Promise<Record<string, Activity>> {
  const { rows } = await pool.query(
    `SELECT strategy, EXTRACT(EPOCH FROM last_signal_at)::float8 * 1000 AS last, usual_interval_seconds AS usual, intervals
       FROM strategy_activity`,
  );
  return Object.fromEntries(rows.map((r) => [r.strategy, { last: Math.round(r.last), usual: r.usual, intervals: r.intervals }]));
}

/** A watch on a fresh database whose clock the test moves; its timers stay an hour away, so every run is asked for. */
async function startWatchAt(base: number, onError?: () => void) {
  const db = await createTestDatabase();
  const pool = makePool({ connectionString: db.url, max: 2, timeoutMs: 5_000, logger: pino({ level: 'silent' }) });
  const clock = { now: base };
  const watch = startSignalWatch({
    pool, intervalMs: 3_600_000, lookbackMs: WEEK_MS, rhythmRefreshMs: 60 * MINUTE, firstRunDelayMs: 3_600_000, logger: pino({ level: 'silent' }), now: () => clock.now, onError,
  });
  const close = async () => {
    await watch.stop();
    await pool.end();
    await db.drop();
  };
  return { pool, watch, clock, close };
}

describe('startSignalWatch: usual intervals from the whole window now and then, last alert times from the newest signals every run', function () {
  this.timeout(30_000);

  it('learns at its first run and every rhythmRefreshMs; the runs between move last-alert times forward and add new strategies only', async () => {
    const base = Date.now();
    const { pool, watch, clock, close } = await startWatchAt(base);
    try {
      // Every 5 minutes, the last half an hour ago.
      await insertHistory(pool, 'steady', 10, 5 * MINUTE, base - 30 * MINUTE);
      await watch.runOnce();
      assert.deepEqual((await activity(pool)).steady, { last: base - 30 * MINUTE, usual: 300, intervals: 9 });

      // Then every minute for 20 minutes, and a strategy never seen before.
      await insertHistory(pool, 'steady', 20, MINUTE, base + 20 * MINUTE);
      await insertHistory(pool, 'fresh', 6, 2 * MINUTE, base + 19 * MINUTE);
      clock.now = base + 21 * MINUTE;
      await watch.runOnce();
      let seen = await activity(pool);
      assert.deepEqual(seen.steady, { last: base + 20 * MINUTE, usual: 300, intervals: 9 }, 'last alert moved; the rhythm waits for its refresh');
      assert.deepEqual(seen.fresh, { last: base + 19 * MINUTE, usual: null, intervals: 0 });

      // A signal stored late (received before the last one) never moves the last alert time back.
      await insertSignalAt(pool, 'steady', new Date(base + 20 * MINUTE - 30_000));
      clock.now = base + 22 * MINUTE;
      await watch.runOnce();
      assert.equal((await activity(pool)).steady!.last, base + 20 * MINUTE);

      // An hour after the first run the whole window is read again: the new rhythm is learned.
      clock.now = base + 61 * MINUTE;
      await watch.runOnce();
      seen = await activity(pool);
      assert.deepEqual(seen.steady, { last: base + 20 * MINUTE, usual: 60, intervals: 30 });
      assert.deepEqual(seen.fresh, { last: base + 19 * MINUTE, usual: 120, intervals: 5 });
    } finally {
      await close();
    }
  });

  it('a cheap run reads back from the run before it, so a signal stored up to TOUCH_OVERLAP_MS late still counts', async () => {
    const base = Date.now();
    const { pool, watch, clock, close } = await startWatchAt(base);
    try {
      await insertSignalAt(pool, 'late', new Date(base - 10 * MINUTE));
      await watch.runOnce();
      // Received (its id's time) before the previous run, committed after it, as a signal waiting on a slow database.
      await insertSignalAt(pool, 'late', new Date(base - 2 * MINUTE));
      clock.now = base + MINUTE;
      await watch.runOnce();
      assert.equal((await activity(pool)).late!.last, base - 2 * MINUTE);
    } finally {
      await close();
    }
  });
});

describe('startSignalWatch: a clock set back, and a refresh that fails', function () {
  this.timeout(30_000);

  it('learns usual intervals again at the first run after the clock went back, not rhythmRefreshMs after it', async () => {
    const base = Date.now();
    const { pool, watch, clock, close } = await startWatchAt(base);
    try {
      await insertHistory(pool, 'steady', 10, 5 * MINUTE, base - 30 * MINUTE);
      await watch.runOnce();
      assert.equal((await activity(pool)).steady!.usual, 300);
      // The clock is stepped back an hour; the strategy's rhythm changed, and a new one started.
      await insertHistory(pool, 'steady', 20, MINUTE, base - 10 * MINUTE);
      await insertHistory(pool, 'fresh', 6, 2 * MINUTE, base - 11 * MINUTE);
      clock.now = base - 60 * MINUTE + 10_000;
      await watch.runOnce();
      const seen = await activity(pool);
      assert.equal(seen.steady!.usual, 60, 'learned again at once');
      assert.equal(seen.fresh!.usual, 120);
    } finally {
      await close();
    }
  });

  it('moves last alert times on when learning usual intervals fails, and counts the failure', async () => {
    const base = Date.now();
    let errors = 0;
    const { pool, watch, clock, close } = await startWatchAt(base, () => (errors += 1));
    try {
      await insertHistory(pool, 'steady', 10, 5 * MINUTE, base - 30 * MINUTE);
      await watch.runOnce();
      // From now on, the full refresh (which rewrites usual intervals) fails, as one past its statement timeout would.
      await pool.query(`
        CREATE FUNCTION refuse_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'refresh refused by the test'; END $$;
        CREATE TRIGGER refuse_refresh BEFORE UPDATE ON strategy_activity FOR EACH ROW
          WHEN (NEW.refreshed_at IS DISTINCT FROM OLD.refreshed_at) EXECUTE FUNCTION refuse_refresh();`);
      await insertSignalAt(pool, 'steady', new Date(base + 70 * MINUTE));
      clock.now = base + 71 * MINUTE;
      await watch.runOnce();
      assert.equal((await activity(pool)).steady!.last, base + 70 * MINUTE, 'the last alert time moved on');
      assert.equal(errors, 1);
      // The refresh is tried again at the next run, and the times keep moving.
      await insertSignalAt(pool, 'steady', new Date(base + 71 * MINUTE + 30_000));
      clock.now = base + 72 * MINUTE;
      await watch.runOnce();
      assert.equal((await activity(pool)).steady!.last, base + 71 * MINUTE + 30_000);
      assert.equal(errors, 2);
      // The clock goes back an hour and the refresh fails again: it is still tried at the run after.
      clock.now = base + 12 * MINUTE;
      await watch.runOnce();
      assert.equal(errors, 3);
      clock.now = base + 13 * MINUTE;
      await watch.runOnce();
      assert.equal(errors, 4, 'the refresh was tried again, not put off until the clock is back where it was');
    } finally {
      await close();
    }
  });
});

describe('startSignalWatch: gap detection and the strategies\' rhythm fail apart', function () {
  this.timeout(30_000);

  it('moves last alert times on while gap detection fails, and counts that failure', async () => {
    const base = Date.now();
    let errors = 0;
    const { pool, watch, clock, close } = await startWatchAt(base, () => (errors += 1));
    try {
      await insertHistory(pool, 'steady', 3, 5 * MINUTE, base - 10 * MINUTE);
      // Gap detection's table gone (as any failure of its statement): the rest of the run goes on.
      await pool.query('ALTER TABLE position_gaps RENAME TO position_gaps_elsewhere');
      await watch.runOnce();
      assert.equal((await activity(pool)).steady!.last, base - 10 * MINUTE);
      assert.equal(errors, 1);
      await insertSignalAt(pool, 'steady', new Date(base + 4 * MINUTE));
      clock.now = base + 5 * MINUTE;
      await watch.runOnce();
      assert.equal((await activity(pool)).steady!.last, base + 4 * MINUTE);
      assert.equal(errors, 2);
    } finally {
      await close();
    }
  });
});

/**
 * A watch that counts stuck signals on a fresh database (made ready by `setUp` first), whose clock the test moves;
 * its counts and failures are kept. Its timers stay an hour away, so every run is asked for.
 */
async function startStuckWatch(setUp?: (pool: Pool) => Promise<unknown>) {
  const base = Date.now();
  const clock = { now: base };
  const db = await createTestDatabase();
  const pool = makePool({ connectionString: db.url, max: 2, timeoutMs: 30_000, logger: pino({ level: 'silent' }) });
  await setUp?.(pool);
  const counted: Array<{ stuck: number; tookMs: number }> = [];
  let errors = 0;
  const watch = startSignalWatch({
    pool, intervalMs: 3_600_000, lookbackMs: WEEK_MS, rhythmRefreshMs: 60 * MINUTE, firstRunDelayMs: 3_600_000, logger: pino({ level: 'silent' }), now: () => clock.now,
    onError: () => (errors += 1),
    stuck: { afterSeconds: 60, liveAttemptSeconds: 403, onCount: (c) => counted.push(c) },
  });
  return {
    base, clock, pool, watch, counted,
    counts: () => counted.map((c) => c.stuck),
    errors: () => errors,
    close: async () => {
      await watch.stop();
      await pool.end();
      await db.drop();
    },
  };
}

/** A queued signal whose last change was `minutesAgo` ago (no job of it yet). */
async function insertQueued(pool: Pool, minutesAgo: number): Promise<string> {
  const { rows } = await pool.query(
    `INSERT INTO signals (id, webhook_id, dedupe_key, dedupe_until, ticker, action, status, received_at, updated_at)
     SELECT u, u, 'k:' || u::text, now(), 'BTCUSDT', 'buy', 'queued', now(), now() - make_interval(mins => $1)
       FROM (SELECT gen_random_uuid() AS u) g RETURNING id`,
    [minutesAgo],
  );
  return rows[0].id;
}

describe('startSignalWatch: stuck signals counted at every run, apart from the rest', function () {
  this.timeout(30_000);

  it('counts a signal with no job, not one whose job waits or one that changed lately; a failed count is counted and stops nothing', async () => {
    const { base, clock, pool, watch, counts, errors, close } = await startStuckWatch();
    /** The next run, a minute later (as the watch's timer would run it). */
    const nextRun = () => {
      clock.now += MINUTE;
      return watch.runOnce();
    };
    try {
      const waiting = await insertQueued(pool, 5);
      await pool.query(`SELECT graphile_worker.add_job('execute_signal', json_build_object('signalId', $1::text), job_key := $1::text)`, [waiting]);
      await insertQueued(pool, 0); // changed lately: its worker may be about to write
      await nextRun();
      assert.deepEqual(counts(), [0]);

      const orphan = await insertQueued(pool, 5);
      await nextRun();
      assert.deepEqual(counts(), [0, 1]);
      await pool.query(`UPDATE signals SET status = 'failed' WHERE id = $1`, [orphan]);
      await nextRun();
      assert.deepEqual(counts(), [0, 1, 0]);
      assert.equal(errors(), 0);

      // The count's statement fails (here: the queue's view is gone): counted, and the strategies' rhythm still moves.
      await insertQueued(pool, 5);
      await insertHistory(pool, 'steady', 2, MINUTE, base + 3 * MINUTE);
      await pool.query('ALTER VIEW graphile_worker.jobs RENAME TO jobs_elsewhere');
      await nextRun();
      assert.deepEqual(counts(), [0, 1, 0], 'the gauge keeps its last count');
      assert.equal(errors(), 1);
      assert.equal((await activity(pool)).steady!.last, base + 3 * MINUTE);
    } finally {
      await close();
    }
  });
});

describe('startSignalWatch: the stuck-signal count spaced by what it cost', function () {
  this.timeout(60_000);

  it('a count whose statement took d ms in Postgres is not run again for d × 1,000 ms (a backlog of waiting signals makes it dear)', async () => {
    // 20,000 signals waiting for an hour, each with its job waiting: each is looked up among the jobs.
    const { base, clock, pool, watch, counted, counts, close } = await startStuckWatch((pool) =>
      pool.query(
        `WITH s AS (
           INSERT INTO signals (id, webhook_id, dedupe_key, dedupe_until, ticker, action, status, received_at, updated_at)
           SELECT u, u, 'w:' || u::text, now(), 'BTCUSDT', 'buy', 'queued', now() - interval '1 hour', now() - interval '1 hour'
             FROM generate_series(1, 20000) i, LATERAL (SELECT gen_random_uuid() AS u WHERE i > 0) g
           RETURNING id)
         SELECT count(*) FROM graphile_worker.add_jobs((
           SELECT array_agg(ROW('execute_signal', json_build_object('signalId', id::text), 'symbol:BTCUSDT', NULL, 25, id::text, NULL, NULL)::graphile_worker.job_spec)
             FROM s))`,
      ),
    );
    try {
      await watch.runOnce();
      assert.deepEqual(counts(), [0]);
      const spacingMs = counted[0]!.tookMs * 1_000;
      assert.ok(spacingMs > 1_000 && spacingMs < 15 * MINUTE, `20,000 lookups take more than a millisecond: ${counted[0]!.tookMs} ms`);
      await pool.query(
        `INSERT INTO signals (id, webhook_id, dedupe_key, dedupe_until, ticker, action, status, received_at, updated_at)
         SELECT u, u, 'k:' || u::text, now(), 'ETHUSDT', 'buy', 'executing', now(), now() - interval '5 minutes' FROM (SELECT gen_random_uuid() AS u) g`,
      );
      clock.now = base + Math.floor(spacingMs) - 1;
      await watch.runOnce();
      assert.deepEqual(counts(), [0], 'not counted again so soon');
      clock.now = base + Math.ceil(spacingMs);
      await watch.runOnce();
      assert.deepEqual(counts(), [0, 1]);
      // A clock set back does not put the count off.
      clock.now = base - MINUTE;
      await watch.runOnce();
      assert.deepEqual(counts(), [0, 1, 1]);
    } finally {
      await close();
    }
  });

  it('a count that failed is tried again at the next run', async () => {
    const { clock, pool, watch, counts, errors, close } = await startStuckWatch();
    try {
      await pool.query('ALTER VIEW graphile_worker.jobs RENAME TO jobs_elsewhere');
      await watch.runOnce();
      assert.deepEqual([counts(), errors()], [[], 1]);
      await pool.query('ALTER VIEW graphile_worker.jobs_elsewhere RENAME TO jobs');
      clock.now += 1;
      await watch.runOnce();
      assert.deepEqual([counts(), errors()], [[0], 1]);
    } finally {
      await close();
    }
  });
});
