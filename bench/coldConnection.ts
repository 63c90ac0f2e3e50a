import { once } from 'node:events';
import { pino } from 'pino';
import { makePool } from '../src/db/makePool.js';
import { createTestDatabase, startTestServer, stopTestServer } from '../tests/support/testDatabase.js';
import { median } from './stats.js';

/**
 * `node dist/bench/coldConnection.js [times]`: how long a query takes on an open connection, and the first query
 * after the pool closed its idle connection (which then opens one: TCP, a new backend, SCRAM authentication).
 * Why the request pool keeps one connection open (makePool's `minOpen`, startService).
 */
const times = Number(process.argv[2] ?? 10);

await startTestServer();
const db = await createTestDatabase();
const pool = makePool({ connectionString: db.url, max: 4, timeoutMs: 10_000, logger: pino({ level: 'silent' }), idleTimeoutMs: 50 });
try {
  const timed = async () => {
    const t0 = performance.now();
    await pool.query('SELECT 1');
    return performance.now() - t0;
  };
  const open: number[] = [];
  const reopened: number[] = [];
  for (let i = 0; i < times; i += 1) {
    await timed();
    open.push(await timed());
    // The pool closes the idle connection after 50 ms.
    await once(pool, 'remove');
    reopened.push(await timed());
  }
  const show = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' ');
  console.log(`query on an open connection (ms): ${show(open)}; median ${median(open).toFixed(2)}`);
  console.log(`first query after the idle connection closed (ms): ${show(reopened)}; median ${median(reopened).toFixed(2)}`);
} finally {
  await pool.end();
  await db.drop();
  await stopTestServer();
}
