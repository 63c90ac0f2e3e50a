import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { makePool, type Pool } from '../src/db/makePool.js';
import type { RequestRecord } from '../src/telemetry/makeWebhookRecord.js';
import { COPY_CHUNK_CHARS, joinRows, serializeRecord, writeRecords } from '../src/telemetry/writeRecords.js';
import { alert, startTestService, TEST_ADMIN_TOKEN, type TestService } from './support/startTestService.js';
import { waitFor } from './support/waitFor.js';

/** Text COPY's format must escape (tab, newline, carriage return, backslash), its NULL marker, and the rest. */
const HOSTILE = ['tab\there', 'line\nbreak', 'carriage\rreturn', 'back\\slash', '\\N', '\\\\t', 'quote " and \'', 'unicode é ✓ 🚀', '\\n not a newline'];

/** A header value can carry tabs and backslashes, not line breaks or characters past Latin-1. */
const asHeader = (text: string) => text.replace(/[\r\n]|[^\x00-\xff]/g, '?');

describe('writeRecords: a batch of monitoring records is one COPY, exact whatever the text', function () {
  this.timeout(60_000);
  let svc: TestService;
  let pool: Pool;
  before(async () => {
    svc = await startTestService();
    pool = makePool({ connectionString: svc.db.url, max: 2, timeoutMs: 5000, logger: pino({ level: 'silent' }) });
  });
  after(async () => {
    await pool?.end();
    await svc?.close();
  });

  it('stores payload text, user agents and error messages with tabs, newlines, backslashes and \\N exactly as sent', async () => {
    const ids: string[] = [];
    for (const [i, text] of HOSTILE.entries()) {
      const res = await svc.post(alert({ ticker: `BINANCE:H${i}USDT`, comment: text, nested: { [`key\t${i}`]: [text] } }), { headers: { 'user-agent': asHeader(text) } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      ids.push(res.body.webhookId);
    }
    // A rejected one: its error message quotes the sender's field name back.
    const rejected = await svc.post(alert({ action: 'hold\tthe\\line' }));
    assert.equal(rejected.status, 422);
    for (const [i, id] of ids.entries()) {
      const record = await waitFor(async () => {
        const r = await fetch(`${svc.url}/api/webhooks/${id}`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
        return r.status === 200 ? ((await r.json()) as any).webhook : undefined;
      });
      assert.equal(record.payload.comment, HOSTILE[i]);
      assert.deepEqual(record.payload.nested, { [`key\t${i}`]: [HOSTILE[i]] });
      assert.equal(record.userAgent, asHeader(HOSTILE[i]!));
    }
    const refused = await waitFor(async () => (await pool.query('SELECT error_message FROM webhook_requests WHERE id = $1', [rejected.body.webhookId])).rows[0]);
    assert.equal(refused.error_message.includes('hold\tthe\\line'), refused.error_message.includes('hold'), refused.error_message);
  });

  it('writing a batch again (a write that timed out had in fact committed) skips the stored rows and stores the new ones', async () => {
    const stored = (await pool.query('SELECT to_jsonb(r) AS j FROM webhook_requests r ORDER BY id LIMIT 3')).rows.map((r) => r.j as RequestRecord);
    assert.equal(stored.length, 3);
    const fresh = { ...stored[0]!, id: randomUUID() };
    const before = (await pool.query('SELECT count(*)::int AS n FROM webhook_requests')).rows[0].n as number;
    await writeRecords(pool, [...stored, fresh].map(serializeRecord), 5000);
    assert.equal((await pool.query('SELECT count(*)::int AS n FROM webhook_requests')).rows[0].n, before + 1);
    const copy = (await pool.query('SELECT to_jsonb(r) AS j FROM webhook_requests r WHERE id = $1', [fresh.id])).rows[0].j as RequestRecord;
    assert.deepEqual({ ...copy, id: stored[0]!.id }, stored[0]);
    // And the connection is usable afterwards: a plain batch still goes in.
    await writeRecords(pool, [serializeRecord({ ...stored[1]!, id: randomUUID() })], 5000);
    assert.equal((await pool.query('SELECT count(*)::int AS n FROM webhook_requests')).rows[0].n, before + 2);
  });

  it('a batch of many chunks (400 rows, one of them longer than a chunk) is stored whole, each row exactly', async () => {
    const template = (await pool.query('SELECT to_jsonb(r) AS j FROM webhook_requests r ORDER BY id LIMIT 1')).rows[0].j as RequestRecord;
    const long = 'x'.repeat(COPY_CHUNK_CHARS + 100);
    const records = Array.from({ length: 400 }, (_, i) => ({ ...template, id: randomUUID(), error_message: i === 150 ? long : `row ${i}\tof 400` }));
    const rows = records.map(serializeRecord);
    assert.ok([...joinRows(rows)].length > 5, 'the batch spans several chunks');
    await writeRecords(pool, rows, 5000);
    const stored = new Map((await pool.query('SELECT id::text AS id, error_message FROM webhook_requests WHERE id = ANY($1::uuid[])', [records.map((r) => r.id)])).rows.map((r) => [r.id, r.error_message]));
    assert.equal(stored.size, 400);
    for (const r of records) assert.equal(stored.get(r.id), r.error_message);
  });
});

describe('joinRows: COPY text in bounded chunks, rows whole and in order', () => {
  it('joins rows in order into chunks no longer than the bound, a longer row alone', () => {
    const rows = ['a', 'bb', 'ccc', 'd'.repeat(12), 'e', 'f'];
    const chunks = [...joinRows(rows, 8)];
    assert.equal(chunks.join(''), rows.map((r) => `${r}\n`).join(''));
    assert.deepEqual(chunks, ['a\nbb\n', 'ccc\n', 'd'.repeat(12) + '\n', 'e\nf\n']);
    assert.deepEqual([...joinRows([], 8)], []);
  });
});
