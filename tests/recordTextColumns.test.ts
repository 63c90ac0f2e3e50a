import assert from 'node:assert/strict';
import pg from 'pg';
import { migrate } from '../src/db/migrate.js';
import { pruneRecords } from '../src/monitoring/pruneRecords.js';
import { migrateBy } from './support/migrateBy.js';
import { migrateDownTo } from './support/migrateDownTo.js';
import { alert, startTestService, TEST_SECRET } from './support/startTestService.js';
import { insertRecordsOfBothStageForms, recordColumnTypes, stageViewRows, STORED_PAYLOAD_TEXT } from './support/recordColumns.js';
import { createTestDatabase, quietLogger } from './support/testDatabase.js';
import { waitFor } from './support/waitFor.js';

describe('migration 0012: records keep headers, payload and stages as the JSON text the service wrote', () => {
  it('moves records stored as json (both stage forms) to text and back; the stages view, the values and retention read them the same', async () => {
    const db = await createTestDatabase();
    const pool = new pg.Pool({ connectionString: db.url });
    try {
      await migrateDownTo(db.url, '0011_record_json_columns');
      assert.deepEqual(await recordColumnTypes(pool), { headers: 'json', payload: 'json', stages: 'json' });
      const webhooks = await insertRecordsOfBothStageForms(pool);
      const before = await stageViewRows(pool);
      const values = async (cast: string) => (await pool.query(`SELECT id, headers${cast} AS headers, payload${cast} AS payload, stages${cast} AS stages FROM webhook_requests ORDER BY id`)).rows;
      const records = await values('');
      assert.equal(before.length, 3);

      await migrateBy(db.url, 'up', 1);
      assert.deepEqual(await recordColumnTypes(pool), { headers: 'text', payload: 'text', stages: 'text' });
      assert.deepEqual(await stageViewRows(pool), before);
      assert.deepEqual(await values('::json'), records);
      // The text is the JSON as it was stored, key order and spacing included.
      assert.equal((await pool.query('SELECT payload FROM webhook_requests WHERE id = $1', [webhooks[0]])).rows[0].payload, STORED_PAYLOAD_TEXT);

      await migrateBy(db.url, 'down', 1);
      assert.deepEqual(await recordColumnTypes(pool), { headers: 'json', payload: 'json', stages: 'json' });
      assert.deepEqual(await stageViewRows(pool), before);
      // Down restores 0011's check (stages a JSON array) and its json defaults.
      await assert.rejects(pool.query(`UPDATE webhook_requests SET stages = '[oops' WHERE id = $1`, [webhooks[0]]), /invalid input syntax for type json/);
      await assert.rejects(pool.query(`UPDATE webhook_requests SET stages = '{}' WHERE id = $1`, [webhooks[0]]), /webhook_requests_stages_check/);
      assert.deepEqual(
        (await pool.query(`SELECT column_name, column_default FROM information_schema.columns WHERE table_name = 'webhook_requests' AND column_name IN ('headers', 'stages') ORDER BY 1`)).rows,
        [{ column_name: 'headers', column_default: "'{}'::json" }, { column_name: 'stages', column_default: "'[]'::json" }],
      );
      await migrate(db.url, quietLogger);
      // Retention counts a deleted webhook's stages from the text.
      // The stages still have to be an array, and the columns keep their defaults.
      await assert.rejects(pool.query(`UPDATE webhook_requests SET stages = '{}' WHERE id = $1`, [webhooks[0]]), /webhook_requests_stages_check/);
      const defaults = (await pool.query(`INSERT INTO webhook_requests (id, created_at, payload_size, processing_time_ms, status, http_status) VALUES ('0192aaaa-0000-7000-8000-000000000003', '2026-11-29T10:00:02Z', 0, 1, 'rejected', 400) RETURNING headers, stages`)).rows[0];
      assert.deepEqual(defaults, { headers: '{}', stages: '[]' });
      assert.deepEqual(await pruneRecords(pool, new Date('2026-11-30T00:00:00Z')), { requests: 3, stages: 3, uncountedStages: 0 });
    } finally {
      await pool.end();
      await db.drop();
    }
  });
});

describe('records as JSON text: every value the service writes is JSON', function () {
  this.timeout(60_000);

  it('stores headers, payload and stages that Postgres parses as JSON, for accepted, refused, unparseable and hostile webhooks; the API shows them as values', async () => {
    const svc = await startTestService({ MONITORING_FLUSH_INTERVAL_MS: '20' });
    try {
      const answers = [
        await svc.post(alert({ comment: 'tab\there, "quotes", back\\slash, é ✓ 🚀', nested: { deep: [[{ x: 1 }]] } })),
        await svc.post(alert({ note: 'nul \u0000 and a lone \ud800 surrogate' })),
        await svc.post(alert({ action: 'hold' })),
        await svc.post('{"ticker": "BTC", "action": "buy", not json', { headers: { 'x-odd': 'a "quoted" \\ value' } }),
        await svc.post('ticker=BTC&action=buy', { contentType: 'text/plain' }),
        await svc.post({ ...alert(), secret: 'wrong-secret' }),
        await svc.post({ secret: TEST_SECRET, ticker: 'x'.repeat(70_000) }),
      ];
      const ids = answers.map((a) => a.body?.webhookId as string | undefined).filter((id): id is string => id !== undefined);
      assert.ok(ids.length >= 6, JSON.stringify(answers.map((a) => a.status)));
      const rows = await waitFor(async () => {
        const r = await svc.pool.query('SELECT id::text, headers::json AS headers, payload::json AS payload, stages::json AS stages FROM webhook_requests WHERE id = ANY($1::uuid[])', [ids]);
        return r.rows.length === ids.length ? r.rows : undefined;
      });
      for (const row of rows) {
        assert.equal(typeof row.headers, 'object', row.id);
        assert.ok(Array.isArray(row.stages) && row.stages.length > 0, row.id);
        const detail = await svc.api(`/api/webhooks/${row.id}`);
        assert.equal(detail.status, 200);
        assert.deepEqual(detail.body.webhook.headers, row.headers);
        assert.deepEqual(detail.body.webhook.payload, row.payload);
        assert.equal(detail.body.stages.length, row.stages.length);
      }
      assert.equal(rows.find((r) => r.id === answers[0]!.body.webhookId).payload.comment, 'tab\there, "quotes", back\\slash, é ✓ 🚀');
    } finally {
      await svc.close();
    }
  });
});
