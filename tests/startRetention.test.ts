import assert from 'node:assert/strict';
import { pino } from 'pino';
import { makePool } from '../src/db/makePool.js';
import { startRetention } from '../src/monitoring/startRetention.js';
import { createTestDatabase } from './support/testDatabase.js';

describe('startRetention: old monitoring records deleted, and a failed run counted', function () {
  this.timeout(30_000);

  it('deletes records past RETENTION_DAYS; a run that fails is counted (monitoring_retention_errors_total) and the next one deletes them', async () => {
    const db = await createTestDatabase();
    const pool = makePool({ connectionString: db.url, max: 2, timeoutMs: 5_000, logger: pino({ level: 'silent' }) });
    let errors = 0;
    const base = Date.now();
    const retention = startRetention({
      pool, days: 30, intervalMs: 3_600_000, firstRunDelayMs: 3_600_000, logger: pino({ level: 'silent' }), now: () => base, onError: () => (errors += 1),
    });
    try {
      await pool.query(
        `INSERT INTO webhook_requests (id, created_at, processing_time_ms, status, http_status, trace_id)
         SELECT gen_random_uuid(), now() - make_interval(days => d), 1, 'success', 200, repeat('a', 32) FROM unnest(ARRAY[40, 31, 29, 1]) d`,
      );
      const kept = async () => (await pool.query('SELECT count(*)::int AS n FROM webhook_requests')).rows[0].n;

      // The run fails whole (here: the table is gone for a moment): counted, nothing deleted.
      await pool.query('ALTER TABLE webhook_requests RENAME TO webhook_requests_elsewhere');
      await retention.runOnce();
      await pool.query('ALTER TABLE webhook_requests_elsewhere RENAME TO webhook_requests');
      assert.equal(errors, 1);
      assert.equal(await kept(), 4);

      await retention.runOnce();
      assert.equal(errors, 1);
      assert.equal(await kept(), 2, 'the records 40 and 31 days old are gone, those 29 and 1 day old kept');
    } finally {
      retention.stop();
      await pool.end();
      await db.drop();
    }
  });
});
