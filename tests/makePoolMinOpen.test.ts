import assert from 'node:assert/strict';
import { once } from 'node:events';
import { pino } from 'pino';
import { makePool, type Pool } from '../src/db/makePool.js';
import { createTestDatabase, type TestDatabase } from './support/testDatabase.js';

/**
 * The request pool keeps a connection open through a quiet spell (startService: `minOpen: 1`): a query after it
 * finds one, where opening a connection (TCP, a new backend, SCRAM) cost about 10 ms against 0.3 (bench/coldConnection.ts).
 */
describe('makePool: connections kept open however long they stay idle', function () {
  let db: TestDatabase;
  let pool: Pool | undefined;
  before(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await pool?.end();
    pool = undefined;
  });
  after(async () => {
    await db.drop();
  });

  async function quietSpell(p: Pool): Promise<{ opened: number; backends: Set<number> }> {
    let opened = 0;
    p.on('connect', () => (opened += 1));
    // Two connections at once, then both idle: their idle timers (10 ms) start together.
    const [a, b] = await Promise.all([p.connect(), p.connect()]);
    const backends = new Set([(await a.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid, (await b.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid]);
    const removed = once(p, 'remove');
    a.release();
    b.release();
    // The first idle timer closes a connection; the other fires in the same turn of the timers.
    await removed;
    await new Promise((r) => setImmediate(r));
    return { opened, backends };
  }

  it('with minOpen 1, one connection outlives the idle timeout, and the next query uses it instead of opening one', async () => {
    pool = makePool({ connectionString: db.url, max: 4, timeoutMs: 5_000, logger: pino({ level: 'silent' }), minOpen: 1, idleTimeoutMs: 10 });
    const { opened, backends } = await quietSpell(pool);
    assert.equal(opened, 2);
    assert.equal(pool.totalCount, 1);
    const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    assert.ok(backends.has(rows[0]!.pid), 'the query ran on a connection that was already open');
    assert.equal(pool.totalCount, 1);
  });

  it('without it, every connection closes after the idle timeout (as for the pools that run in the background)', async () => {
    pool = makePool({ connectionString: db.url, max: 4, timeoutMs: 5_000, logger: pino({ level: 'silent' }), idleTimeoutMs: 10 });
    await quietSpell(pool);
    if (pool.totalCount > 0) await once(pool, 'remove');
    assert.equal(pool.totalCount, 0);
  });
});
