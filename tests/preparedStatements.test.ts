import assert from 'node:assert/strict';
import { pino } from 'pino';
import { makePool, type Pool } from '../src/db/makePool.js';
import { FIND_DUPLICATE_STATEMENT, findDuplicateSignal } from '../src/pipeline/findDuplicateSignal.js';
import { INSERT_SIGNALS_STATEMENT, insertSignals } from '../src/pipeline/insertSignals.js';
import { createTestDatabase, type TestDatabase } from './support/testDatabase.js';
import { countJobs } from './support/jobQueue.js';
import { newSignal } from './support/newSignal.js';


/**
 * The request path's statements are prepared once per connection: sent without a name, Postgres parsed, analysed
 * and planned the signal writer's again for every batch (about a quarter of its CPU a signal:
 * bench/statementCost.ts), and the duplicate lookup for every duplicate (120-135 against 55-70 µs).
 */
describe('request path statements: each prepared once per connection, planned once', function () {
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

  async function preparedRuns(): Promise<Array<{ name: string; runs: number }>> {
    const { rows } = await pool.query<{ name: string; runs: number }>(
      'SELECT name, (generic_plans + custom_plans)::int AS runs FROM pg_prepared_statements WHERE NOT from_sql ORDER BY name',
    );
    return rows;
  }

  it('insertSignals: runs every batch as the same named statement on the connection, and stores every batch', async () => {
    const batches = 8;
    for (let b = 0; b < batches; b += 1) {
      const inserted = await insertSignals(pool, [newSignal({ price: 100 + 2 * b }), newSignal({ price: 101 + 2 * b })]);
      assert.equal(inserted.size, 2);
    }
    assert.deepEqual(await preparedRuns(), [{ name: INSERT_SIGNALS_STATEMENT, runs: batches }]);
    const stored = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM signals');
    assert.equal(stored.rows[0]!.n, 2 * batches);
    assert.equal(await countJobs(pool), 2 * batches);
  });

  it('findDuplicateSignal: every lookup runs as one named statement, and finds the signal whose window it falls in', async () => {
    const original = newSignal({}, 'i:prepared-duplicate');
    await insertSignals(pool, [original]);
    const lookups = 6;
    for (let i = 0; i < lookups; i += 1) {
      const found = await findDuplicateSignal(pool, original.dedupe, new Date(original.receivedAt.getTime() + 1_000));
      assert.equal(found?.id, original.id);
    }
    assert.equal(await findDuplicateSignal(pool, { key: 'i:prepared-none', until: null }, new Date()), undefined);
    const runs = await preparedRuns();
    assert.deepEqual(runs.find((r) => r.name === FIND_DUPLICATE_STATEMENT), { name: FIND_DUPLICATE_STATEMENT, runs: lookups + 1 });
  });
});
