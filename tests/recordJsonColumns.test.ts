import assert from 'node:assert/strict';
import pg from 'pg';
import { migrate } from '../src/db/migrate.js';
import { migrateBy } from './support/migrateBy.js';
import { createTestDatabase, quietLogger, type TestDatabase } from './support/testDatabase.js';

const columnTypes = async (pool: pg.Pool) =>
  Object.fromEntries(
    (await pool.query(`SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'webhook_requests' AND column_name IN ('headers', 'payload', 'stages')`)).rows.map((r) => [r.column_name, r.data_type]),
  );

const viewRows = async (pool: pg.Pool) => (await pool.query('SELECT * FROM processing_stages ORDER BY webhook_id, started_at, id')).rows;

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
    // From the newest migration down to 0010 (0012 made the columns text, 0011 json).
    await migrateBy(db.url, 'down', 2);
    assert.deepEqual(await columnTypes(pool), { headers: 'jsonb', payload: 'jsonb', stages: 'jsonb' });
    const webhooks = ['0192aaaa-0000-7000-8000-000000000001', '0192aaaa-0000-7000-8000-000000000002'];
    // A compact stage (migration 0009) and a full one (before it), as both are stored.
    await pool.query(
      `INSERT INTO webhook_requests (id, created_at, headers, payload, payload_size, processing_time_ms, status, http_status, trace_id, stages)
       VALUES ($1, '2026-11-29T10:00:00Z', '{"content-type": "application/json"}', '{"ticker": "BTC", "note": "tab\\tand \\"quotes\\""}', 40, 1.5, 'success', 200, $3,
               '[{"stage": "received", "offset_ms": 0, "duration_ms": 0.25, "span_id": "00f067aa0ba902b7"},
                 {"stage": "failed", "offset_ms": 0.25, "duration_ms": 0.5, "span_id": "00f067aa0ba902b8", "status": "failed", "error_message": "no", "metadata": {"k": 1}}]'),
              ($2, '2026-11-29T10:00:01Z', '{}', NULL, 0, 2, 'rejected', 401, $3,
               '[{"id": "0192aaaa-0000-7000-8000-0000000000ff", "stage": "received", "started_at": "2026-11-29T10:00:01Z", "completed_at": "2026-11-29T10:00:01.001Z", "duration_ms": 1, "status": "completed", "error_message": null, "metadata": {}, "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b9"}]')`,
      [webhooks[0], webhooks[1], '4bf92f3577b34da6a3ce929d0e0e4736'],
    );
    const before = await viewRows(pool);
    const records = (await pool.query('SELECT id, headers, payload FROM webhook_requests ORDER BY id')).rows;
    assert.equal(before.length, 3);

    await migrateBy(db.url, 'up', 1);
    assert.deepEqual(await columnTypes(pool), { headers: 'json', payload: 'json', stages: 'json' });
    assert.deepEqual(await viewRows(pool), before);
    assert.deepEqual((await pool.query('SELECT id, headers, payload FROM webhook_requests ORDER BY id')).rows, records);
    // The records' writer and retention still work on the new columns.
    await assert.rejects(pool.query(`UPDATE webhook_requests SET stages = '{}' WHERE id = $1`, [webhooks[0]]), /webhook_requests_stages_check/);
    assert.deepEqual((await pool.query('SELECT json_array_length(stages) AS n FROM webhook_requests ORDER BY id')).rows.map((r) => r.n), [2, 1]);

    await migrateBy(db.url, 'down', 1);
    assert.deepEqual(await columnTypes(pool), { headers: 'jsonb', payload: 'jsonb', stages: 'jsonb' });
    assert.deepEqual(await viewRows(pool), before);
    await migrate(db.url, quietLogger);
  });
});
