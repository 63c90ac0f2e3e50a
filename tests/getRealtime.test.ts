import assert from 'node:assert/strict';
import { pino } from 'pino';
import { makePool } from '../src/db/makePool.js';
import { LATEST_ERRORS_SQL } from '../src/monitoring/getRealtime.js';
import { createTestDatabase } from './support/testDatabase.js';

interface PlanNode { 'Node Type': string; 'Actual Rows': number; 'Actual Loops': number; Plans?: PlanNode[] }

/** Rows every scan of the plan read (actual rows x loops), summed. */
function rowsScanned(node: PlanNode): number {
  const own = /Scan/.test(node['Node Type']) ? node['Actual Rows'] * node['Actual Loops'] : 0;
  return own + (node.Plans ?? []).reduce((sum, p) => sum + rowsScanned(p), 0);
}

describe('getRealtime: the latest errors', function () {
  this.timeout(60_000);

  it('are the 10 newest unsuccessful webhooks, read from the newest 10 of each status, however many are kept', async () => {
    const db = await createTestDatabase();
    const pool = makePool({ connectionString: db.url, max: 1, timeoutMs: 10_000, logger: pino({ level: 'silent' }) });
    try {
      // 20,000 rejected webhooks over the last 20 days (a stranger's flood), 3 failed (two among the newest), successes.
      await pool.query(
        `INSERT INTO webhook_requests (id, created_at, processing_time_ms, status, http_status, error_code, trace_id)
         SELECT gen_random_uuid(), now() - make_interval(secs => i * 86.4), 1, s.status, s.http, s.code, repeat('a', 32)
           FROM generate_series(1, 24000) i,
                LATERAL (SELECT CASE WHEN i % 6 = 0 THEN 'success' WHEN i IN (2, 7, 40) THEN 'failed' ELSE 'rejected' END AS status) t,
                LATERAL (SELECT t.status, CASE t.status WHEN 'success' THEN 200 WHEN 'failed' THEN 503 ELSE 401 END AS http,
                                CASE t.status WHEN 'success' THEN NULL WHEN 'failed' THEN 'WH_ERR_UNAVAILABLE' ELSE 'WH_ERR_AUTH_INVALID' END AS code) s`,
      );
      await pool.query('ANALYZE webhook_requests');
      const latest = (await pool.query(LATEST_ERRORS_SQL)).rows;
      const expected = (await pool.query(`SELECT id FROM webhook_requests WHERE status <> 'success' ORDER BY created_at DESC LIMIT 10`)).rows;
      assert.deepEqual(latest.map((r) => r.id), expected.map((r) => r.id));
      assert.equal(latest.filter((r) => r.status === 'failed').length, 2, 'both failed webhooks among the newest, beside the rejected');

      const [{ 'QUERY PLAN': [plan] }] = (await pool.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${LATEST_ERRORS_SQL}`)).rows;
      const scanned = rowsScanned(plan.Plan);
      assert.ok(scanned <= 20, `read ${scanned} rows for the latest 10 (every unsuccessful one kept before: about 20,000)`);
    } finally {
      await pool.end();
      await db.drop();
    }
  });
});
