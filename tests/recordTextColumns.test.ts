import assert from 'node:assert/strict';
import pg from 'pg';
import { migrate } from '../src/db/migrate.js';
import { pruneRecords } from '../src/monitoring/pruneRecords.js';
import { migrateBy } from './support/migrateBy.js';
import { alert, startTestService, TEST_SECRET } from './support/startTestService.js';
import { createTestDatabase, quietLogger, type TestDatabase } from './support/testDatabase.js';
import { waitFor } from './support/waitFor.js';

const columnTypes = async (pool: pg.Pool) =>
  Object.fromEntries(
    (await pool.query(`SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'webhook_requests' AND column_name IN ('headers', 'payload', 'stages')`)).rows.map((r) => [r.column_name, r.data_type]),
  );

const viewRows = async (pool: pg.Pool) => (await pool.query('SELECT * FROM processing_stages ORDER BY webhook_id, started_at, id')).rows;

describe('migration 0012: records keep headers, payload and stages as the JSON text the service wrote', () => {
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

  it('moves records stored as json (both stage forms) to text and back; the stages view, the values and retention read them the same', async () => {
    await migrateBy(db.url, 'down', 1);
    assert.deepEqual(await columnTypes(pool), { headers: 'json', payload: 'json', stages: 'json' });
    const webhooks = ['0192aaaa-0000-7000-8000-000000000001', '0192aaaa-0000-7000-8000-000000000002'];
    // A compact stage (migration 0009) and a full one (before it), as both are stored.
    await pool.query(
      `INSERT INTO webhook_requests (id, created_at, headers, payload, payload_size, processing_time_ms, status, http_status, trace_id, stages)
       VALUES ($1, '2026-11-29T10:00:00Z', '{"content-type": "application/json"}', '{"ticker": "BTC", "note": "tab\\tand \\"quotes\\" é ✓"}', 40, 1.5, 'success', 200, $3,
               '[{"stage": "received", "offset_ms": 0, "duration_ms": 0.25, "span_id": "00f067aa0ba902b7"},
                 {"stage": "failed", "offset_ms": 0.25, "duration_ms": 0.5, "span_id": "00f067aa0ba902b8", "status": "failed", "error_message": "no", "metadata": {"k": 1}}]'),
              ($2, '2026-11-29T10:00:01Z', '{}', NULL, 0, 2, 'rejected', 401, $3,
               '[{"id": "0192aaaa-0000-7000-8000-0000000000ff", "stage": "received", "started_at": "2026-11-29T10:00:01Z", "completed_at": "2026-11-29T10:00:01.001Z", "duration_ms": 1, "status": "completed", "error_message": null, "metadata": {}, "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b9"}]')`,
      [webhooks[0], webhooks[1], '4bf92f3577b34da6a3ce929d0e0e4736'],
    );
    const before = await viewRows(pool);
    const values = async (cast: string) => (await pool.query(`SELECT id, headers${cast} AS headers, payload${cast} AS payload, stages${cast} AS stages FROM webhook_requests ORDER BY id`)).rows;
    const records = await values('');
    assert.equal(before.length, 3);

    await migrateBy(db.url, 'up', 1);
    assert.deepEqual(await columnTypes(pool), { headers: 'text', payload: 'text', stages: 'text' });
    assert.deepEqual(await viewRows(pool), before);
    assert.deepEqual(await values('::json'), records);
    // The text is the JSON as it was stored, key order and spacing included.
    assert.equal((await pool.query('SELECT payload FROM webhook_requests WHERE id = $1', [webhooks[0]])).rows[0].payload, '{"ticker": "BTC", "note": "tab\\tand \\"quotes\\" é ✓"}');

    await migrateBy(db.url, 'down', 1);
    assert.deepEqual(await columnTypes(pool), { headers: 'json', payload: 'json', stages: 'json' });
    assert.deepEqual(await viewRows(pool), before);
    await migrate(db.url, quietLogger);
    // Retention counts a deleted webhook's stages from the text.
    assert.deepEqual(await pruneRecords(pool as never, new Date('2026-11-30T00:00:00Z')), { requests: 2, stages: 3 });
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
