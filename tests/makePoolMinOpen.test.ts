import assert from 'node:assert/strict';
import { once } from 'node:events';
import { pino } from 'pino';
import { makePool, type Pool } from '../src/db/makePool.js';
import { createTestDatabase, type TestDatabase } from './support/testDatabase.js';
import { withTestPool } from './support/withTestPool.js';

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

/**
 * An idle connection's TCP keepalive timer as the kernel reports it (/proc/net/tcp: `tr` 2 is the keepalive timer
 * on an established socket, `tm->when` its jiffies left), for the socket from `localPort` to `remotePort`.
 */
async function keepaliveTimer(localPort: number, remotePort: number): Promise<{ active: number } | undefined> {
  const { readFile } = await import('node:fs/promises');
  const hex = (port: number) => port.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const lines = (await readFile(file, 'utf8').catch(() => '')).split('\n').slice(1);
    for (const line of lines) {
      const f = line.trim().split(/\s+/);
      if (f.length < 6) continue;
      if (f[1]!.endsWith(`:${hex(localPort)}`) && f[2]!.endsWith(`:${hex(remotePort)}`)) return { active: Number.parseInt(f[5]!.split(':')[0]!, 16) };
    }
  }
  return undefined;
}

describe('makePool: TCP keepalive', () => {
  it('an idle connection of the pool has the kernel\'s keepalive timer running (a NAT between forgets no flow)', async () => {
    await withTestPool({ max: 1, timeoutMs: 5_000, minOpen: 1 }, async (pool) => {
      const client = await pool.connect();
      const socket = (client as unknown as { connection: { stream: import('node:net').Socket } }).connection.stream;
      client.release();
      // Polled briefly: right after a query an unacknowledged segment's retransmit timer (1) could show instead.
      let timer: { active: number } | undefined;
      for (let i = 0; i < 20 && timer?.active !== 2; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 50));
        timer = await keepaliveTimer(socket.localPort!, socket.remotePort!);
      }
      assert.ok(timer, 'the connection is in /proc/net/tcp');
      assert.equal(timer.active, 2, 'the keepalive timer runs on the idle connection');
    });
  });
});
