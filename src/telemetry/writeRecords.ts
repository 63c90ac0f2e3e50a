import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Pool } from '../db/makePool.js';
import { toError } from '../domain/errors.js';
import type { RecordJsonText, RequestRecord, RequestRow } from './makeWebhookRecord.js';

/** webhook_requests' columns in the order of a record's COPY line (every field of RequestRow). */
const COLUMNS = [
  'id', 'created_at', 'source_ip', 'user_agent', 'headers', 'payload', 'payload_size', 'signature', 'signature_valid',
  'processing_time_ms', 'status', 'http_status', 'error_code', 'error_message', 'error_stack', 'signal_id', 'outcome',
  'decline_reason', 'ticker', 'action', 'strategy', 'trace_id', 'replay_of', 'payload_sha256', 'truncation', 'stages',
] as const satisfies ReadonlyArray<keyof RequestRow>;
/** Compile-time proof that COLUMNS names every field of RequestRow (a field added there must be written). */
const EVERY_FIELD_WRITTEN: Exclude<keyof RequestRow, (typeof COLUMNS)[number]> extends never ? true : never = true;
void EVERY_FIELD_WRITTEN;
/** JSON columns (json, jsonb): their value is written as JSON text. */
const JSON_COLUMNS = new Set<string>(['headers', 'payload', 'truncation', 'stages']);
/** Per column of COLUMNS: whether it holds JSON (looked up by position on the hot path). */
const IS_JSON = COLUMNS.map((c) => JSON_COLUMNS.has(c));
const COLUMN_LIST = COLUMNS.join(', ');

/**
 * One statement, one round trip, one row per webhook per batch, whatever its size: COPY, the cheapest way into a
 * table for Postgres. Measured on 960 of the service's own records inserted 20 times (2 cores, backend CPU from
 * /proc): 31-33 µs a record with COPY, against 50 µs when the rows travelled as one JSON array through
 * jsonb_populate_recordset (the previous statement).
 */
const COPY_SQL = `COPY webhook_requests (${COLUMN_LIST}) FROM STDIN`;

/**
 * COPY has no ON CONFLICT. When a batch was in fact committed before its write timed out, its retry meets its
 * own rows (unique_violation): the rows already stored are looked up by id and only the others are copied. Rare,
 * so its extra statement does not matter; it needs no privilege beyond the COPY's (no temporary table).
 */
const STORED_IDS_SQL = 'SELECT id::text AS id FROM webhook_requests WHERE id = ANY($1::uuid[])';

const UNIQUE_VIOLATION = '23505';

/** COPY's text format: backslash, tab, newline and carriage return escaped; NULL is \N. */
function copyText(value: string): string {
  return /[\\\t\n\r]/.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')) : value;
}

/**
 * A webhook's row as a line of COPY text, without its newline (see joinRows). Made once, when it is buffered:
 * the buffer then holds one flat string per webhook (its size known exactly) instead of the objects it was made
 * from. Its text is already storable (makeStorable removed NUL and lone surrogates).
 */
export function serializeRecord(record: RequestRecord): string {
  const jsonText: RecordJsonText = record.jsonText ?? {};
  // Fields joined once: appending each to a string made a rope of 50 pieces that was then copied flat (about
  // 1.6 KB of garbage a record besides the line).
  const fields = new Array<string>(COLUMNS.length);
  for (let i = 0; i < COLUMNS.length; i += 1) {
    const column = COLUMNS[i]!;
    const value = record[column] as unknown;
    if (value === null || value === undefined) fields[i] = '\\N';
    else if (IS_JSON[i]) fields[i] = copyText(jsonText[column as keyof RecordJsonText] ?? JSON.stringify(value));
    else if (typeof value === 'boolean') fields[i] = value ? 't' : 'f';
    else fields[i] = copyText(String(value));
  }
  return fields.join('\t');
}

/**
 * Characters of COPY text per chunk. pg-copy-streams sends each chunk as a CopyData message with two socket
 * writes, so a chunk per row cost two system calls a record. Measured writing 40 batches of 500 of the service's
 * records (1.2 KB each), six alternating rounds: 18-26 µs of Node CPU a record with a chunk per row, 6.3-9.7 µs
 * with 64 KiB chunks (about 50 rows; 17.4 µs in the first, cold round). Bounded, so a batch never becomes one
 * string (V8 caps a string near 512 MB).
 */
export const COPY_CHUNK_CHARS = 64 * 1024;

/**
 * Rows, each ended by a newline, joined in order into strings of at most `maxChars` characters (a longer row is
 * a chunk of its own). The newline is added here, not by serializeRecord: a buffered row stays one flat string.
 */
export function* joinRows(rows: readonly string[], maxChars = COPY_CHUNK_CHARS): Generator<string> {
  let chunk = '';
  for (const row of rows) {
    if (chunk.length > 0 && chunk.length + row.length + 1 > maxChars) {
      yield chunk;
      chunk = '';
    }
    chunk += row;
    chunk += '\n';
  }
  if (chunk.length > 0) yield chunk;
}

async function copyRows(client: pg.PoolClient, rows: string[]): Promise<void> {
  await pipeline(Readable.from(joinRows(rows)), client.query(copyFrom(COPY_SQL)));
}

/** A COPY line's id: its first field. */
const idOf = (row: string) => row.slice(0, row.indexOf('\t'));

export async function writeRecords(pool: Pool, rows: string[], timeoutMs: number): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // statement_timeout bounds the COPY on the server; this bounds it on our side too (a server that vanished).
  const timer = setTimeout(() => {
    broken = new Error(`writing ${rows.length} monitoring records took over ${timeoutMs} ms`);
    (client as unknown as { connection?: { stream?: { destroy(err?: Error): void } } }).connection?.stream?.destroy(broken);
  }, timeoutMs);
  try {
    try {
      await copyRows(client, rows);
    } catch (thrown) {
      if ((thrown as { code?: unknown }).code !== UNIQUE_VIOLATION || broken) throw thrown;
      const stored = new Set((await client.query<{ id: string }>(STORED_IDS_SQL, [rows.map(idOf)])).rows.map((r) => r.id));
      const rest = rows.filter((row) => !stored.has(idOf(row)));
      if (rest.length > 0) await copyRows(client, rest);
    }
  } catch (thrown) {
    throw broken ?? toError(thrown);
  } finally {
    clearTimeout(timer);
    client.release(broken);
  }
}

/**
 * Whether Postgres refused the rows themselves (so another attempt would fail the same way), rather than the
 * connection or the time allowed: data exceptions (22: a character or value it cannot store), integrity
 * constraints (23), program limits (54: too deep, too large).
 */
export function isRowDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|54)/.test(code);
}
