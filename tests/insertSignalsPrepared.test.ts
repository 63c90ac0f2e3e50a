import assert from 'node:assert/strict';
import { pino } from 'pino';
import { makePool, type Pool } from '../src/db/makePool.js';
import { INSERT_SIGNALS_STATEMENT, insertSignals } from '../src/pipeline/insertSignals.js';
import { createTestDatabase, type TestDatabase } from './support/testDatabase.js';
import { countJobs } from './support/jobQueue.js';
import { newSignal } from './support/newSignal.js';


/**
 * The signal writer's statement is prepared once per connection: sent without a name, Postgres parsed, analysed
 * and planned it again for every batch (about a quarter of its CPU a signal: bench/statementCost.ts).
 */
describe('insertSignals: one prepared statement per connection, planned once', function () {
  let db: TestDatabase;
  let pool: Pool;
  before(async () => {
    db = await createTestDatabase();
    // One connection, so the statements below and the check run in the same session.
    pool = makePool({ connectionString: db.url, max: 1, timeoutMs: 10_000, logger: pino({ level: 'silent' }) });
  });
  after(async () => {
    await pool.end();
    await db.drop();
  });

  it('runs every batch as the same named statement on the connection, and stores every batch', async () => {
    const batches = 8;
    for (let b = 0; b < batches; b += 1) {
      const inserted = await insertSignals(pool, [newSignal({ price: 100 + 2 * b }), newSignal({ price: 101 + 2 * b })]);
      assert.equal(inserted.size, 2);
    }
    const { rows } = await pool.query<{ name: string; runs: number }>(
      'SELECT name, (generic_plans + custom_plans)::int AS runs FROM pg_prepared_statements WHERE NOT from_sql',
    );
    assert.deepEqual(rows, [{ name: INSERT_SIGNALS_STATEMENT, runs: batches }]);
    const stored = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM signals');
    assert.equal(stored.rows[0]!.n, 2 * batches);
    assert.equal(await countJobs(pool), 2 * batches);
  });
});
