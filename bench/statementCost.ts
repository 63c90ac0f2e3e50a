import { pino } from 'pino';
import { makePool, type Pool } from '../src/db/makePool.js';
import { insertSignals, type NewSignal } from '../src/pipeline/insertSignals.js';
import { newSignal } from '../tests/support/newSignal.js';
import { createTestDatabase, startTestServer, stopTestServer } from '../tests/support/testDatabase.js';
import { processCpuSeconds } from './readProcCpu.js';
import { median } from './stats.js';

/**
 * `node dist/bench/statementCost.js [batch] [batches] [rounds]`: Postgres CPU a signal of the signal writer's
 * statement (insertSignals), as shipped (a named, prepared statement) and the same statement sent without a name
 * (parsed, analysed and planned again for every batch), alternating round by round on one connection. The CPU is
 * the backend's own, from /proc; the commits wait for the WAL flush as the service's do.
 */
const batch = Number(process.argv[2] ?? 10);
const batches = Number(process.argv[3] ?? 400);
const rounds = Number(process.argv[4] ?? 6);

/** A signal of the bench's shape: three tickers, a strategy, an alert time, and the trace ids a monitored service stores. */
function benchSignal(n: number): NewSignal {
  return newSignal(
    { ticker: ['BTCUSDT', 'ETHUSDT', 'AAPL'][n % 3]!, price: 100 + (n % 50), strategy: 'bench', interval: '5', alertTime: new Date(), extra: { note: 'bench' } },
    undefined,
    { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
  );
}

/** The same pool, its statements sent without a name (as insertSignals sent them until the nineteenth round). */
function unnamed(pool: Pool): Pool {
  return { query: (config: { text: string; values: unknown[] }) => pool.query(config.text, config.values) } as unknown as Pool;
}

await startTestServer();
const db = await createTestDatabase();
const pool = makePool({ connectionString: db.url, max: 1, timeoutMs: 30_000, logger: pino({ level: 'silent' }) });
try {
  const backend = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  let n = 0;
  const results: Record<'prepared' | 'unnamed', number[]> = { prepared: [], unnamed: [] };
  for (let round = 0; round < rounds; round += 1) {
    for (const kind of round % 2 === 0 ? (['unnamed', 'prepared'] as const) : (['prepared', 'unnamed'] as const)) {
      const target = kind === 'prepared' ? pool : unnamed(pool);
      const before = await processCpuSeconds(backend);
      for (let b = 0; b < batches; b += 1) await insertSignals(target, Array.from({ length: batch }, () => benchSignal(n++)));
      const us = (((await processCpuSeconds(backend)) - before) * 1e6) / (batches * batch);
      results[kind].push(Math.round(us));
      console.log(`round ${round + 1} ${kind}: ${us.toFixed(1)} µs of Postgres CPU a signal (batches of ${batch})`);
    }
    await pool.query('ANALYZE');
  }
  console.log(`median (lower middle): prepared ${median(results.prepared)}, unnamed ${median(results.unnamed)} µs a signal; ${JSON.stringify(results)}`);
} finally {
  await pool.end();
  await db.drop();
  await stopTestServer();
}
