import assert from 'node:assert/strict';
import pg from 'pg';
import { migrate } from '../src/db/migrate.js';
import { migrateBy } from './support/migrateBy.js';
import { migrateDownTo } from './support/migrateDownTo.js';
import { insertRecordsOfBothStageForms, recordColumnTypes, stageViewRows } from './support/recordColumns.js';
import { createTestDatabase, quietLogger, type TestDatabase } from './support/testDatabase.js';

describe('migration 0011: records keep headers, payload and stages as json', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  before(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url });
  });
  after(async () => {
    await pool.end();
    await db.drop();
  });

  it('moves records written as jsonb (both stage forms) to json and back, every value and every stage the same', async () => {
    // Down to 0010 (0012 made the columns text, 0011 json).
    await migrateDownTo(db.url, '0010_grafana_reader_signal_columns');
    assert.deepEqual(await recordColumnTypes(pool), { headers: 'jsonb', payload: 'jsonb', stages: 'jsonb' });
    const webhooks = await insertRecordsOfBothStageForms(pool);
    const before = await stageViewRows(pool);
    const records = (await pool.query('SELECT id, headers, payload FROM webhook_requests ORDER BY id')).rows;
    assert.equal(before.length, 3);

    await migrateBy(db.url, 'up', 1);
    assert.deepEqual(await recordColumnTypes(pool), { headers: 'json', payload: 'json', stages: 'json' });
    assert.deepEqual(await stageViewRows(pool), before);
    assert.deepEqual((await pool.query('SELECT id, headers, payload FROM webhook_requests ORDER BY id')).rows, records);
    // The records' writer and retention still work on the new columns.
    await assert.rejects(pool.query(`UPDATE webhook_requests SET stages = '{}' WHERE id = $1`, [webhooks[0]]), /webhook_requests_stages_check/);
    assert.deepEqual((await pool.query('SELECT json_array_length(stages) AS n FROM webhook_requests ORDER BY id')).rows.map((r) => r.n), [2, 1]);

    await migrateBy(db.url, 'down', 1);
    assert.deepEqual(await recordColumnTypes(pool), { headers: 'jsonb', payload: 'jsonb', stages: 'jsonb' });
    assert.deepEqual(await stageViewRows(pool), before);
    await migrate(db.url, quietLogger);
  });
});
