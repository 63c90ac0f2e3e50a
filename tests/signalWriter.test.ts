import assert from 'node:assert/strict';
import { pino } from 'pino';
import pg from 'pg';
import { makePool, type Pool } from '../src/db/makePool.js';
import { DEFAULT_SIGNAL_WRITER_OPTIONS, makeSignalWriter, SignalWriterOverloaded } from '../src/pipeline/makeSignalWriter.js';
import { createTestDatabase, type TestDatabase } from './support/testDatabase.js';
import { countJobs, listJobKeys } from './support/jobQueue.js';
import { newSignal } from './support/newSignal.js';
import { INSERT_SIGNALS_STATEMENT } from '../src/pipeline/insertSignals.js';

type Send = (...args: unknown[]) => Promise<unknown>;

/**
 * Passes each of the writer's statements (the prepared insert, on whichever client the pool lends) through `hook`,
 * which sends it with `send`; every other query goes as it came.
 */
function interceptWriterStatements(pool: Pool, hook: (send: Send, args: unknown[]) => Promise<unknown>): void {
  const seen = new WeakSet<pg.PoolClient>();
  pool.on('acquire', (client) => {
    if (seen.has(client)) return;
    seen.add(client);
    const send = client.query.bind(client) as Send;
    (client as unknown as { query: Send }).query = (...args) => {
      const first = args[0] as { name?: string } | string;
      return typeof first === 'object' && first.name === INSERT_SIGNALS_STATEMENT ? hook(send, args) : send(...args);
    };
  });
}

describe('signal writer: batches signals and their jobs, one statement per batch', function () {
  this.timeout(30_000);
  let db: TestDatabase;
  let pool: Pool;
  beforeEach(async () => {
    db = await createTestDatabase();
    pool = makePool({ connectionString: db.url, max: 4, timeoutMs: 2000, logger: pino({ level: 'silent' }) });
  });
  afterEach(async () => {
    await pool.end();
    await db.drop();
  });

  it('writes concurrent signals in fewer statements than signals, each with its job, in arrival order per symbol', async () => {
    let statements = 0;
    pool.on('acquire', () => (statements += 1));
    const writer = makeSignalWriter(pool, { maxBatchSize: 100, maxConcurrentBatches: 1, maxWaiting: 1000 });
    const signals = Array.from({ length: 30 }, (_, i) => newSignal({ price: i }));
    const results = await Promise.all(signals.map((s) => writer.write(s)));
    assert.ok(results.every((r) => r.inserted));
    assert.ok(statements < 30, `${statements} statements for 30 signals`);
    assert.deepEqual(await listJobKeys(pool, 'symbol:BTCUSDT'), signals.map((s) => s.id));
  });

  it('by default writes one batch at a time, and with maxConcurrentBatches N never more than N at once', async () => {
    // Statements at once, counted at the pool: the writer sends a batch's statement in the turn that starts it.
    let atOnce = 0;
    let most = 0;
    interceptWriterStatements(pool, (send, args) => {
      most = Math.max(most, (atOnce += 1));
      const sent = send(...args);
      sent.then(() => (atOnce -= 1), () => (atOnce -= 1));
      return sent;
    });
    // Two connections open beforehand: a batch that had to open one would start after the other had finished.
    await Promise.all([pool.query('SELECT pg_sleep(0.05)'), pool.query('SELECT pg_sleep(0.05)')]);
    const writeAll = async (writer: ReturnType<typeof makeSignalWriter>) => {
      most = 0;
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => writer.write(newSignal({ price: i + 1 }))));
      assert.ok(results.every((r) => r.inserted));
      return most;
    };
    assert.equal(await writeAll(makeSignalWriter(pool)), 1);
    assert.equal(await writeAll(makeSignalWriter(pool, { ...DEFAULT_SIGNAL_WRITER_OPTIONS, maxConcurrentBatches: 2 })), 2);
  });

  it('sends the next batch to the database before answering the batch that committed', async () => {
    // With one batch in flight, answering first left Postgres idle while every answer of the batch ran.
    const events: string[] = [];
    interceptWriterStatements(pool, (send, args) => {
      events.push('statement');
      return send(...args);
    });
    const writer = makeSignalWriter(pool);
    // The first signal is written at once, alone; the other nine wait for it and go together in the second batch.
    const writes = Array.from({ length: 10 }, (_, i) => writer.write(newSignal({ price: i + 1 })).then(() => events.push(`answered ${i}`)));
    await Promise.all(writes);
    assert.deepEqual(events.slice(0, 3), ['statement', 'statement', 'answered 0']);
    assert.deepEqual(events.slice(3), Array.from({ length: 9 }, (_, i) => `answered ${i + 1}`));
  });

  it('stores every time to the millisecond (received, alert time, dedupe window end); none given is null, or infinity for the window', async () => {
    const writer = makeSignalWriter(pool);
    const timed = newSignal({ alertTime: new Date('1969-12-31T23:59:59.999Z') });
    timed.receivedAt = new Date('2026-11-30T09:30:00.123Z');
    timed.dedupe.until = new Date('2026-11-30T09:31:00.457Z');
    const untimed = newSignal();
    untimed.dedupe.until = null;
    await Promise.all([writer.write(timed), writer.write(untimed)]);
    const rows = await pool.query<{ id: string; received: string; alert: string | null; until: string }>(
      `SELECT id, to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS received,
              to_char(alert_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS alert, dedupe_until::text AS until
         FROM signals WHERE id = ANY($1::uuid[])`,
      [[timed.id, untimed.id]],
    );
    const byId = new Map(rows.rows.map((r) => [r.id, r]));
    assert.deepEqual(byId.get(timed.id), { id: timed.id, received: '2026-11-30T09:30:00.123000', alert: '1969-12-31T23:59:59.999000', until: byId.get(timed.id)!.until });
    assert.equal(new Date(byId.get(timed.id)!.until).toISOString(), '2026-11-30T09:31:00.457Z');
    assert.equal(byId.get(untimed.id)!.alert, null);
    assert.equal(byId.get(untimed.id)!.until, 'infinity');
  });

  it('never stays stuck after a batch fails in an unexpected way: the batch is refused, the next one is written', async () => {
    // A driver rejecting with something that is not an error (null) once; the writer must not count that batch in
    // flight for ever, which would leave every later signal waiting until refused.
    let statements = 0;
    interceptWriterStatements(pool, (send, args) => {
      statements += 1;
      return statements === 2 ? Promise.reject(null) : send(...args);
    });
    const writer = makeSignalWriter(pool);
    // The first signal goes alone; the next two wait for it and share the second statement, which fails.
    const [first, ...failed] = await Promise.allSettled([writer.write(newSignal()), writer.write(newSignal()), writer.write(newSignal())]);
    assert.deepEqual(first, { status: 'fulfilled', value: { inserted: true } });
    assert.deepEqual(failed.map((r) => r.status), ['rejected', 'rejected']);
    assert.deepEqual(await writer.write(newSignal()), { inserted: true });
  });

  it('a duplicate inside one batch is reported as not inserted, and gets no job', async () => {
    const writer = makeSignalWriter(pool, { maxBatchSize: 100, maxConcurrentBatches: 1, maxWaiting: 1000 });
    const key = 'h:same-alert';
    const [a, b, c] = await Promise.all([writer.write(newSignal({}, 'h:first')), writer.write(newSignal({}, key)), writer.write(newSignal({}, key))]);
    assert.deepEqual([a.inserted, b.inserted, c.inserted], [true, true, false]);
    assert.equal(await countJobs(pool), 2);
  });

  it('a row the database refuses fails alone: its batch is retried row by row', async () => {
    const writer = makeSignalWriter(pool, { maxBatchSize: 100, maxConcurrentBatches: 1, maxWaiting: 1000 });
    // Validation never lets a negative quantity through; the database's CHECK stands in for any per-row error.
    const good = [newSignal({ price: 1 }), newSignal({ price: 2 })];
    const bad = newSignal({ quantity: -1 });
    const blocker = writer.write(newSignal({ price: 0 }));
    const settled = await Promise.allSettled([good[0]!, bad, good[1]!].map((s) => writer.write(s)));
    await blocker;
    assert.deepEqual(settled.map((s) => s.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.match(String((settled[1] as PromiseRejectedResult).reason.message), /check constraint/);
    assert.equal((await pool.query('SELECT count(*)::int AS n FROM signals')).rows[0].n, 3);
  });

  it('refuses at once beyond maxWaiting, while the database is stuck', async () => {
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE signals IN ACCESS EXCLUSIVE MODE');
    try {
      const writer = makeSignalWriter(pool, { maxBatchSize: 2, maxConcurrentBatches: 1, maxWaiting: 3 });
      const inFlight = writer.write(newSignal()); // taken at once into the only batch slot
      const waiting = [writer.write(newSignal()), writer.write(newSignal()), writer.write(newSignal())];
      assert.equal(writer.pending(), 4);
      await assert.rejects(writer.write(newSignal()), /3 signals already wait/);
      await locker.query('ROLLBACK');
      await inFlight;
      await Promise.all(waiting);
      assert.equal(writer.pending(), 0);
    } finally {
      await locker.end();
    }
  });

  it('bounds the wait, not only the queue: a signal that would wait past maxQueueDelayMs is refused unwritten', async () => {
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE signals IN ACCESS EXCLUSIVE MODE');
    let clock = 0;
    try {
      const writer = makeSignalWriter(pool, { maxBatchSize: 10, maxConcurrentBatches: 1, maxWaiting: 1000, maxQueueDelayMs: 250, now: () => clock });
      const first = writer.write(newSignal({ price: 1 })); // the only batch slot, stuck behind the lock
      const early = writer.write(newSignal({ price: 2 })); // waits from t = 0
      clock = 200;
      const withinBound = writer.write(newSignal({ price: 3 })); // the oldest has waited 200 ms: admitted
      clock = 300;
      // The oldest now waited 300 ms: the next one is refused at once, and so is the oldest when its turn comes.
      await assert.rejects(writer.write(newSignal({ price: 4 })), SignalWriterOverloaded);
      await assert.rejects(early, SignalWriterOverloaded);
      await locker.query('ROLLBACK');
      await first;
      assert.deepEqual(await withinBound, { inserted: true });
      assert.deepEqual(await writer.write(newSignal({ price: 5 })), { inserted: true }, 'the queue is empty again: admitted');
      const prices = (await pool.query('SELECT price::int AS p FROM signals ORDER BY p')).rows.map((r) => r.p);
      assert.deepEqual(prices, [1, 3, 5], 'refused signals were never written');
    } finally {
      await locker.end();
    }
  });
});
