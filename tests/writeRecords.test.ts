import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { makePool, type Pool } from '../src/db/makePool.js';
import type { RequestRecord } from '../src/telemetry/makeWebhookRecord.js';
import { COLUMN_TYPES, idOfRow, ROW_ARENA_BYTES, serializeRecord } from '../src/telemetry/serializeRecord.js';
import { COPY_CHUNK_BYTES, joinRows, writeRecords } from '../src/telemetry/writeRecords.js';
import { alert, startTestService, TEST_ADMIN_TOKEN, type TestService } from './support/startTestService.js';
import { waitFor } from './support/waitFor.js';

/** What COPY's text format had to escape (tab, newline, carriage return, backslash), its NULL marker, and text beyond ASCII. */
const HOSTILE = ['tab\there', 'line\nbreak', 'carriage\rreturn', 'back\\slash', '\\N', '\\\\t', 'quote " and \'', 'unicode é ✓ 🚀', '\\n not a newline'];

/** A stored row as a record: its JSON text columns (headers, payload, stages) read as the JSON they hold. */
const AS_RECORD = "(to_jsonb(r) || jsonb_build_object('headers', r.headers::jsonb, 'payload', r.payload::jsonb, 'stages', r.stages::jsonb))";

/** A header value can carry tabs and backslashes, not line breaks or characters past Latin-1. */
const asHeader = (text: string) => text.replace(/[\r\n]|[^\x00-\xff]/g, '?');

describe('writeRecords: a batch of monitoring records is one binary COPY, exact whatever the text', function () {
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
    const stored = (await pool.query(`SELECT ${AS_RECORD} AS j FROM webhook_requests r ORDER BY id LIMIT 3`)).rows.map((r) => r.j as RequestRecord);
    assert.equal(stored.length, 3);
    const fresh = { ...stored[0]!, id: randomUUID() };
    const before = (await pool.query('SELECT count(*)::int AS n FROM webhook_requests')).rows[0].n as number;
    await writeRecords(pool, [...stored, fresh].map(serializeRecord), 5000);
    assert.equal((await pool.query('SELECT count(*)::int AS n FROM webhook_requests')).rows[0].n, before + 1);
    const copy = (await pool.query(`SELECT ${AS_RECORD} AS j FROM webhook_requests r WHERE id = $1`, [fresh.id])).rows[0].j as RequestRecord;
    assert.deepEqual({ ...copy, id: stored[0]!.id }, stored[0]);
    // And the connection is usable afterwards: a plain batch still goes in.
    await writeRecords(pool, [serializeRecord({ ...stored[1]!, id: randomUUID() })], 5000);
    assert.equal((await pool.query('SELECT count(*)::int AS n FROM webhook_requests')).rows[0].n, before + 2);
  });

  it('stores each binary value exactly: times to the microsecond in any offset, uuids in any case or without hyphens, text beyond ASCII, numbers, booleans, nulls', async () => {
    const template = (await pool.query(`SELECT ${AS_RECORD} AS j FROM webhook_requests r ORDER BY id LIMIT 1`)).rows[0].j as RequestRecord;
    const signal = randomUUID();
    const records: RequestRecord[] = [
      { ...template, id: randomUUID(), created_at: '2026-11-29T14:00:00.123456+01:00', signal_id: signal.replace(/-/g, '').toUpperCase(), ticker: 'É✓🚀', processing_time_ms: 0.125, payload_size: 2 ** 31 - 1, signature_valid: false },
      { ...template, id: randomUUID(), created_at: '0050-01-01T00:00:00.000Z', signal_id: null, strategy: 'y' },
      { ...template, id: randomUUID(), created_at: new Date(Date.UTC(1999, 11, 31, 23, 59, 59, 999)).toISOString(), signal_id: null, ticker: null, strategy: 'x'.repeat(70) + 'é', signature_valid: true, truncation: { payload: { reasons: ['size'], bytes: 9 } } as never },
    ];
    await writeRecords(pool, records.map(serializeRecord), 5000);
    const stored = (await pool.query(
      `SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS at, signal_id::text, ticker, strategy, processing_time_ms, payload_size, signature_valid, truncation
         FROM webhook_requests WHERE id = ANY($1::uuid[]) ORDER BY created_at DESC`,
      [records.map((r) => r.id)],
    )).rows;
    assert.deepEqual(stored, [
      { at: '2026-11-29T13:00:00.123456', signal_id: signal, ticker: 'É✓🚀', strategy: template.strategy, processing_time_ms: 0.125, payload_size: 2 ** 31 - 1, signature_valid: false, truncation: template.truncation },
      { at: '1999-12-31T23:59:59.999000', signal_id: null, ticker: null, strategy: 'x'.repeat(70) + 'é', processing_time_ms: template.processing_time_ms, payload_size: template.payload_size, signature_valid: true, truncation: { payload: { reasons: ['size'], bytes: 9 } } },
      { at: '0050-01-01T00:00:00.000000', signal_id: null, ticker: template.ticker, strategy: 'y', processing_time_ms: template.processing_time_ms, payload_size: template.payload_size, signature_valid: template.signature_valid, truncation: template.truncation },
    ]);
  });

  it('writes every column in its place: a record with a distinct value in each column reads back the same', async () => {
    // serializeRecord writes the columns one by one, in COLUMN_TYPES' order: two columns of one type swapped
    // would still be stored, so each text column holds its own name here.
    const record: RequestRecord = {
      id: randomUUID(), created_at: '2026-11-30T12:34:56.789Z', source_ip: 'source_ip', user_agent: 'user_agent',
      headers: { 'content-type': 'headers' }, payload: { payload: ['payload'] }, payload_size: 41, signature: 'signature',
      signature_valid: false, processing_time_ms: 12.5, status: 'failed', http_status: 418, error_code: 'error_code',
      error_message: 'error_message', error_stack: 'error_stack', signal_id: randomUUID(), outcome: 'outcome',
      decline_reason: 'decline_reason', ticker: 'ticker', action: 'action', strategy: 'strategy', trace_id: 'trace_id',
      replay_of: randomUUID(), payload_sha256: 'payload_sha256', truncation: { headers: { reasons: ['size'], replacedChars: 0, limitBytes: 7 } },
      stages: [['received', 0.5, 1.25], ['failed', 1.75, 0, { stages: 'stages' }, 'stages']],
    };
    assert.deepEqual(Object.keys(record).sort(), Object.keys(COLUMN_TYPES).sort(), 'every column has a value here');
    await writeRecords(pool, [serializeRecord(record)], 5000);
    const stored = (await pool.query(`SELECT ${AS_RECORD} - 'created_at' AS j, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at FROM webhook_requests r WHERE id = $1`, [record.id])).rows[0];
    assert.deepEqual({ ...stored.j, created_at: stored.at }, record);
  });

  it('a batch of many chunks (400 rows, one of them longer than a chunk) is stored whole, each row exactly', async () => {
    const template = (await pool.query(`SELECT ${AS_RECORD} AS j FROM webhook_requests r ORDER BY id LIMIT 1`)).rows[0].j as RequestRecord;
    const long = 'x'.repeat(COPY_CHUNK_BYTES + 100);
    const records = Array.from({ length: 400 }, (_, i) => ({ ...template, id: randomUUID(), error_message: i === 150 ? long : `row ${i}\tof 400` }));
    const rows = records.map(serializeRecord);
    assert.ok([...joinRows(rows)].length > 5, 'the batch spans several chunks');
    await writeRecords(pool, rows, 5000);
    const stored = new Map((await pool.query('SELECT id::text AS id, error_message FROM webhook_requests WHERE id = ANY($1::uuid[])', [records.map((r) => r.id)])).rows.map((r) => [r.id, r.error_message]));
    assert.equal(stored.size, 400);
    for (const r of records) assert.equal(stored.get(r.id), r.error_message);
  });
});

describe('joinRows: a binary COPY stream in bounded chunks, rows whole and in order, never copied', () => {
  const header = 'PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0';

  it('sends rows lying next to each other as one view of their memory, up to the bound (a longer row alone), between header and trailer', () => {
    const texts = ['a', 'bb', 'ccc', 'd'.repeat(30), 'e', 'f'];
    const memory = Buffer.from(texts.join(''), 'latin1');
    let offset = 0;
    const rows = texts.map((t) => memory.subarray(offset, (offset += t.length)));
    const chunks = [...joinRows(rows, 21)];
    assert.deepEqual(chunks.map((b) => b.toString('latin1')), [header, 'abbccc', 'd'.repeat(30), 'ef', '\xff\xff']);
    for (const chunk of chunks.slice(1, -1)) assert.equal(chunk.buffer, memory.buffer, 'a view of the rows, not a copy');
    assert.deepEqual([...joinRows([], 21)].map((b) => b.toString('latin1')), [header, '\xff\xff']);
  });

  it('starts a new chunk where the next row is elsewhere in memory (a retry without the rows already stored)', () => {
    const memory = Buffer.from('aabbccdd', 'latin1');
    const rows = [memory.subarray(0, 2), memory.subarray(4, 6), Buffer.from('xx', 'latin1'), memory.subarray(6, 8)];
    const chunks = [...joinRows(rows, 64)].map((b) => b.toString('latin1'));
    assert.deepEqual(chunks, [header, 'aa', 'cc', 'xx', 'dd', '\xff\xff']);
  });

  it('sends the service\'s rows as views of the arenas they were written to', () => {
    const record = { id: randomUUID(), created_at: new Date().toISOString(), headers: {}, payload: { ticker: 'BTCUSD' }, payload_size: 20, processing_time_ms: 1, status: 'success', http_status: 200, trace_id: 't', stages: [] } as unknown as RequestRecord;
    const rows = Array.from({ length: 500 }, () => serializeRecord({ ...record, id: randomUUID() }));
    const chunks = [...joinRows(rows)].slice(1, -1);
    assert.ok(Buffer.concat(chunks).equals(Buffer.concat(rows)), 'every row, in order');
    const arenas = new Set(rows.map((r) => r.buffer));
    for (const chunk of chunks) assert.ok(arenas.has(chunk.buffer), 'each chunk is a view of an arena');
    assert.ok(chunks.length <= arenas.size + Math.ceil(Buffer.concat(rows).length / COPY_CHUNK_BYTES), `${chunks.length} chunks for ${rows.length} rows`);
  });
});

describe('serializeRecord: each value in the binary form of its column', function () {
  this.timeout(30_000);

  it('names every column of webhook_requests with the type Postgres has for it (a migration that changes one fails here)', async () => {
    const svc = await startTestService();
    try {
      const pool = makePool({ connectionString: svc.db.url, max: 1, timeoutMs: 5000, logger: pino({ level: 'silent' }) });
      try {
        const { rows } = await pool.query<{ column_name: string; udt_name: string }>(
          "SELECT column_name, udt_name FROM information_schema.columns WHERE table_name = 'webhook_requests' ORDER BY column_name",
        );
        assert.deepEqual(Object.fromEntries(rows.map((r) => [r.column_name, r.udt_name])), Object.fromEntries(Object.entries(COLUMN_TYPES).sort()));
      } finally {
        await pool.end();
      }
    } finally {
      await svc.close();
    }
  });

  it('holds each row outside the V8 heap, in arenas shared by many rows; a row keeps its bytes while later rows are made', () => {
    const record = { id: randomUUID(), created_at: new Date().toISOString(), headers: {}, payload: { ticker: 'BTCUSD' }, payload_size: 20, processing_time_ms: 1, status: 'success', http_status: 200, trace_id: 't', stages: [] } as unknown as RequestRecord;
    const long = 'y'.repeat(ROW_ARENA_BYTES + 10);
    const made = Array.from({ length: 300 }, (_, i) => ({ ...record, id: randomUUID(), error_message: i === 120 ? long : `row ${i}` }));
    const rows = made.map(serializeRecord);
    const copies = rows.map((r) => Buffer.from(r));
    const arenas = new Set(rows.map((r) => r.buffer));
    // One ArrayBuffer per row made more major collections than a string per row (fourth round of issue 13).
    assert.ok(arenas.size < rows.length / 10, `${arenas.size} arenas for ${rows.length} rows`);
    for (let i = 0; i < rows.length; i++) {
      assert.ok(Buffer.isBuffer(rows[i]));
      assert.ok(rows[i]!.equals(copies[i]!), `row ${i} unchanged`);
      assert.equal(idOfRow(rows[i]!), made[i]!.id.replaceAll('-', ''));
    }
    assert.ok(rows[120]!.length > ROW_ARENA_BYTES, 'a row longer than an arena is held whole');
  });

  it('leaves the rows before a refused record as they were, and writes the next one where the refused one started', () => {
    const record = { id: randomUUID(), created_at: new Date().toISOString(), headers: {}, payload: { ticker: 'BTCUSD' }, payload_size: 20, processing_time_ms: 1, status: 'success', http_status: 200, trace_id: 't', stages: [] } as unknown as RequestRecord;
    const before = serializeRecord(record);
    const copy = Buffer.from(before);
    assert.throws(() => serializeRecord({ ...record, id: randomUUID(), error_message: 'z'.repeat(ROW_ARENA_BYTES), created_at: 'never' }), /created_at is not a time/);
    const after = serializeRecord({ ...record, id: randomUUID() });
    assert.ok(before.equals(copy), 'the row before is unchanged');
    if (after.buffer === before.buffer) assert.equal(after.byteOffset, before.byteOffset + before.length, 'written right after the last row kept');
    assert.equal(after.length, before.length);
  });

  it('refuses a value its column cannot hold, so that record alone is given up', () => {
    const record = { id: 'not-a-uuid', created_at: new Date().toISOString(), headers: {}, payload: null, payload_size: 0, processing_time_ms: 1, status: 'rejected', http_status: 400, trace_id: 't', stages: [] } as unknown as RequestRecord;
    assert.throws(() => serializeRecord(record), /id is not a uuid/);
    for (const id of ['0123456789abcdef0123456789abcdef----', '01234567-89ab-cdef-0123-456789abcdeZ', '0123456789abcdef0123456789abcde', '01234567-89ab-cdef-0123-456789abcdef0', '01234567089ab-cdef-0123-456789abcdef']) {
      assert.throws(() => serializeRecord({ ...record, id }), /id is not a uuid/, id);
    }
    for (const at of ['yesterday', '2024-02-30T00:00:00.000Z', '2023-02-29T12:00:00.000+01:00', '2024-13-01T00:00:00.000Z']) {
      assert.throws(() => serializeRecord({ ...record, id: randomUUID(), created_at: at }), /created_at is not a time/, at);
    }
    assert.throws(() => serializeRecord({ ...record, id: randomUUID(), http_status: 2 ** 31 }), /http_status is not a 32-bit integer/);
    // A column that may not be null is refused by name; a time Postgres would store as NaN is refused too.
    assert.throws(() => serializeRecord({ ...record, id: undefined as never }), /id is not a uuid/);
    assert.throws(() => serializeRecord({ ...record, id: randomUUID(), created_at: undefined as never }), /created_at is not a time/);
    assert.throws(() => serializeRecord({ ...record, id: randomUUID(), status: undefined as never }), /status is not text/);
    for (const ms of [undefined, Number.NaN, Infinity]) {
      assert.throws(() => serializeRecord({ ...record, id: randomUUID(), processing_time_ms: ms as never }), /processing_time_ms is not a finite number/, String(ms));
    }
  });

  it('writes null for a nullable column left out or null (trace id included), and any other value of a text column as its text', async () => {
    const record = { id: randomUUID(), created_at: new Date().toISOString(), headers: {}, payload: null, payload_size: 0, processing_time_ms: 1, status: 'failed', http_status: 500, trace_id: null, ticker: 42, stages: [] } as unknown as RequestRecord;
    const svc = await startTestService();
    try {
      await writeRecords(svc.pool, [serializeRecord(record)], 5000);
      const stored = (await svc.pool.query('SELECT trace_id, ticker, source_ip, signal_id, signature_valid, payload FROM webhook_requests WHERE id = $1', [record.id])).rows[0];
      assert.deepEqual(stored, { trace_id: null, ticker: '42', source_ip: null, signal_id: null, signature_valid: null, payload: null });
    } finally {
      await svc.close();
    }
  });
});
