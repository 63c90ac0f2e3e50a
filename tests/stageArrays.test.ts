import assert from 'node:assert/strict';
import pg from 'pg';
import { migrate } from '../src/db/migrate.js';
import { pruneRecords } from '../src/monitoring/pruneRecords.js';
import { migrateBy } from './support/migrateBy.js';
import { migrateDownTo } from './support/migrateDownTo.js';
import { insertRecordsOfBothStageForms, stageViewRows } from './support/recordColumns.js';
import { createTestDatabase, quietLogger, type TestDatabase } from './support/testDatabase.js';

const ARRAY_WEBHOOK = '0192aaaa-0000-7000-9abc-def012345678';
/** 0013's form (times in µs): a plain stage, one with metadata, a failed one with a message, a failed one without. */
const ARRAY_STAGES = '[["received",0,250],["deciding",250,500,{"trading.decision":"decline"}],["failed",750,0,null,"no \\"quotes\\""],["failed",750,125,{"k":1},null]]';

async function insertArrayRecord(pool: pg.Pool): Promise<void> {
  await pool.query(
    `INSERT INTO webhook_requests (id, created_at, headers, payload_size, processing_time_ms, status, http_status, trace_id, stages)
     VALUES ($1, '2026-11-29T10:00:02Z', '{}', 0, 1, 'failed', 500, '4bf92f3577b34da6a3ce929d0e0e4737', $2)`,
    [ARRAY_WEBHOOK, ARRAY_STAGES],
  );
}

describe('migration 0013: stages stored as arrays, span ids derived from the webhook id', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  beforeEach(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url });
  });
  afterEach(async () => {
    await pool.end();
    await db.drop();
  });

  it('the view reads arrays: name, times from the offsets, derived span id and id, failed status and message, metadata', async () => {
    await insertArrayRecord(pool);
    const rows = (await pool.query('SELECT * FROM processing_stages WHERE webhook_id = $1 ORDER BY span_id', [ARRAY_WEBHOOK])).rows;
    const at = (ms: number) => new Date(Date.parse('2026-11-29T10:00:02Z') + ms);
    assert.deepEqual(
      rows.map((r) => [r.id, r.stage, r.started_at, r.completed_at, r.duration_ms, r.status, r.error_message, r.metadata, r.trace_id, r.span_id]),
      [
        ['0192aaaa-0000-7000-9abc-def012345601', 'received', at(0), at(0.25), 0.25, 'completed', null, {}, '4bf92f3577b34da6a3ce929d0e0e4737', '9abcdef0123456' + '01'],
        ['0192aaaa-0000-7000-9abc-def012345602', 'deciding', at(0.25), at(0.75), 0.5, 'completed', null, { 'trading.decision': 'decline' }, '4bf92f3577b34da6a3ce929d0e0e4737', '9abcdef0123456' + '02'],
        ['0192aaaa-0000-7000-9abc-def012345603', 'failed', at(0.75), at(0.75), 0, 'failed', 'no "quotes"', {}, '4bf92f3577b34da6a3ce929d0e0e4737', '9abcdef0123456' + '03'],
        ['0192aaaa-0000-7000-9abc-def012345604', 'failed', at(0.75), at(0.875), 0.125, 'failed', null, { k: 1 }, '4bf92f3577b34da6a3ce929d0e0e4737', '9abcdef0123456' + '04'],
      ],
    );
  });

  it('reads the earlier forms as 0012\'s view did; Down turns arrays into 0009\'s objects and Up reads them all the same again', async () => {
    await migrateDownTo(db.url, '0012_record_text_columns');
    await insertRecordsOfBothStageForms(pool);
    const earlierForms = await stageViewRows(pool);
    await migrateBy(db.url, 'up', 1);
    assert.deepEqual(await stageViewRows(pool), earlierForms, 'rows stored before read the same');

    await insertArrayRecord(pool);
    const all = await stageViewRows(pool);
    assert.equal(all.length, earlierForms.length + 4);
    await migrateBy(db.url, 'down', 1);
    assert.deepEqual(await stageViewRows(pool), all, '0012\'s view reads the converted stages the same');
    const converted = (await pool.query('SELECT stages::json AS s FROM webhook_requests WHERE id = $1', [ARRAY_WEBHOOK])).rows[0].s;
    assert.deepEqual(converted[2], { stage: 'failed', offset_ms: 0.75, duration_ms: 0, span_id: '9abcdef012345603', status: 'failed', error_message: 'no "quotes"' });
    await migrate(db.url, quietLogger);
    assert.deepEqual(await stageViewRows(pool), all);
  });

  it('retention counts an array record\'s stages', async () => {
    await insertArrayRecord(pool);
    assert.deepEqual(await pruneRecords(pool, new Date('2026-11-30T00:00:00Z')), { requests: 1, stages: 4, uncountedStages: 0 });
  });
});
