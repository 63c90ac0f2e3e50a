import type { RecordJsonText, RequestRecord, RequestRow } from './makeWebhookRecord.js';
import { isoTimeToMicros } from './isoTimeToMicros.js';

/**
 * A webhook's row in COPY's binary format (one tuple), held as bytes outside the V8 heap: a slice of a shared
 * arena (see `arena` below), written to Postgres as they are (writeRecords).
 *
 * Why binary: Postgres no longer scans each line for delimiters and escapes, nor parses each value's text
 * (timestamps, uuids, numbers). Measured on 5,469 of the service's own records (1.2 KB each), copied into a
 * table with webhook_requests' indexes six times in six alternating rounds (backend CPU from /proc): 11.6-15.2
 * µs a record as text, 7.9-8.8 as binary. Headers, payload and stages go in as the JSON text they are (text
 * columns since migration 0012: Postgres no longer parses them); truncation is jsonb, parsed by jsonb_recv.
 *
 * Why an arena slice, not a string: a buffered row waits up to the flush interval (200 ms) and a scavenge of the
 * young generation in between copied it, then promoted it to the old generation, which only a major collection
 * frees. As a one-byte string it was most of what monitoring promoted: 1.3 of 3.9 KiB a webhook more than the
 * pipeline's (bench/requestCost.js --rate 1000 --allocations --promoted). A slice leaves a small view object on
 * the heap and its bytes in a 64 KiB arena shared by about 50 rows; a Buffer of its own per row (tried in issue
 * 13's fourth round) was an ArrayBuffer per row, with its own external-memory accounting, and made more major
 * collections. Both builds at once under the same load (bench/pairedCost.ts, 1,000/s): 25 µs of the process a
 * request less from a fresh start, mostly V8's helper threads; no difference after a closed-loop burst. Arenas
 * filled again once their rows were written (a count per arena, released by the sink) did no better.
 */

type ColumnType = 'uuid' | 'timestamptz' | 'text' | 'jsonb' | 'int4' | 'bool' | 'float8';

/** webhook_requests' columns in the order of a record's tuple (every field of RequestRow), with their types. */
export const COLUMN_TYPES = {
  id: 'uuid',
  created_at: 'timestamptz',
  source_ip: 'text',
  user_agent: 'text',
  headers: 'text',
  payload: 'text',
  payload_size: 'int4',
  signature: 'text',
  signature_valid: 'bool',
  processing_time_ms: 'float8',
  status: 'text',
  http_status: 'int4',
  error_code: 'text',
  error_message: 'text',
  error_stack: 'text',
  signal_id: 'uuid',
  outcome: 'text',
  decline_reason: 'text',
  ticker: 'text',
  action: 'text',
  strategy: 'text',
  trace_id: 'text',
  replay_of: 'uuid',
  payload_sha256: 'text',
  truncation: 'jsonb',
  stages: 'text',
} as const satisfies Record<keyof RequestRow, ColumnType>;

const COLUMNS = Object.keys(COLUMN_TYPES) as Array<keyof RequestRow>;
export const COLUMN_LIST = COLUMNS.join(', ');

/** The binary format's header: its signature, flags (none) and header extension length (0). */
export const COPY_BINARY_HEADER = Buffer.from('PGCOPY\n\xff\r\n\0' + '\0\0\0\0' + '\0\0\0\0', 'latin1');
/** The binary format's trailer: a field count of -1. */
export const COPY_BINARY_TRAILER = Buffer.from('\xff\xff', 'latin1');

const FIELD_COUNT = COLUMNS.length;
/** Milliseconds from the Unix epoch to Postgres's (2000-01-01 UTC). */
const POSTGRES_EPOCH_MS = Date.UTC(2000, 0, 1);
/** jsonb's binary form: a version byte (1), then the JSON text. */
const JSONB_VERSION = 1;

/** Bytes of an arena: about 50 of the service's rows (1.2 KB each); a longer row gets an arena of its own size. */
export const ROW_ARENA_BYTES = 64 * 1024;

/**
 * Where tuples are written: straight into the arena that keeps them (no scratch buffer, no copy), `rowStart` the
 * tuple being written, `at` the next byte. A tuple that outgrows what is left of its arena moves, with what it
 * has written so far, to a new one: the rows already in the old arena keep it alive until they are written, and
 * rows leave in the order they came, so an arena lives about as long as its rows wait and at most one is partly
 * empty. Consecutive rows lie next to each other, so a batch's COPY data is sent as views of its arenas
 * (joinRows in writeRecords.ts) instead of being copied into chunks. Measured in one process over 1,000 of the
 * service's webhooks: see docs/benchmarks.md (sixteenth round).
 */
let arena = Buffer.allocUnsafeSlow(ROW_ARENA_BYTES);
let rowStart = 0;
let at = 0;

function reserve(bytes: number): void {
  if (at + bytes <= arena.length) return;
  const written = at - rowStart;
  const next = Buffer.allocUnsafeSlow(Math.max(ROW_ARENA_BYTES, written + bytes));
  arena.copy(next, 0, rowStart, at);
  arena = next;
  rowStart = 0;
  at = written;
}

/** A text value as its UTF-8 bytes, length first (after `version`, jsonb's version byte, when given). */
function writeText(value: string, version?: number): void {
  const n = value.length;
  reserve(5 + 3 * n);
  const lengthAt = at;
  at += 4;
  if (version !== undefined) arena[at++] = version;
  // Short text (status, ticker, trace id...) copied here when it is ASCII: a call into Buffer.write costs more
  // than the copy.
  let ascii = n <= SHORT_TEXT;
  for (let i = 0; ascii && i < n; i += 1) {
    const c = value.charCodeAt(i);
    if (c > 0x7f) ascii = false;
    else arena[at + i] = c;
  }
  at += ascii ? n : arena.write(value, at, 'utf8');
  arena.writeInt32BE(at - lengthAt - 4, lengthAt);
}

/** Characters up to which text is copied by hand (see writeText). */
const SHORT_TEXT = 64;

/** A hex digit's value, or -1. */
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const lower = c | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}

/** A uuid, 36 characters with hyphens at 8, 13, 18 and 23, or 32 hex digits, as its 16 bytes. */
function writeUuid(value: string, column: string): void {
  if (typeof value !== 'string') throw new Error(`${column} is not a uuid`);
  const hyphens = value.length === 36;
  if (!hyphens && value.length !== 32) throw new Error(`${column} is not a uuid`);
  reserve(20);
  arena.writeInt32BE(16, at);
  let byte = 0;
  for (let i = 0; i < value.length; i += 2) {
    if (hyphens && (i === 8 || i === 13 || i === 18 || i === 23)) {
      if (value.charCodeAt(i) !== 45) break;
      i -= 1;
      continue;
    }
    const high = hexValue(value.charCodeAt(i));
    const low = hexValue(value.charCodeAt(i + 1));
    if (high < 0 || low < 0) break;
    arena[at + 4 + byte] = (high << 4) | low;
    byte += 1;
  }
  if (byte !== 16) throw new Error(`${column} is not a uuid`);
  at += 20;
}

/** An ISO 8601 time as microseconds since 2000 (int64), keeping up to six fractional digits. */
function writeTimestamp(value: string, column: string): void {
  const micros = isoTimeToMicros(value, column) - POSTGRES_EPOCH_MS * 1000;
  const high = Math.floor(micros / 2 ** 32);
  reserve(12);
  arena.writeInt32BE(8, at);
  arena.writeInt32BE(high, at + 4);
  arena.writeUInt32BE(micros - high * 2 ** 32, at + 8);
  at += 12;
}

/** A null field: a length of -1. */
function writeNull(): void {
  reserve(4);
  arena.writeInt32BE(-1, at);
  at += 4;
}

/** Nullable columns take undefined as null too (a record built by hand, in a test or a replay, may leave them out). */
function writeNullableText(value: string | null | undefined): void {
  if (value == null) writeNull();
  else writeText(typeof value === 'string' ? value : String(value));
}

/** A text column that may not be null: refused by name, as Postgres would refuse the row. */
function writeRequiredText(value: string, column: string): void {
  if (typeof value !== 'string') throw new Error(`${column} is not text`);
  writeText(value);
}

function writeNullableUuid(value: string | null | undefined, column: string): void {
  if (value == null) writeNull();
  else writeUuid(value, column);
}

/** A column of JSON text (headers, payload, stages): the text made on the way (see RecordJsonText), else the value's JSON. */
function writeJson(text: string | undefined, value: unknown): void {
  if (value === null || value === undefined) writeNull();
  else writeText(text ?? JSON.stringify(value));
}

function writeInt4(value: number, column: string): void {
  if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) throw new Error(`${column} is not a 32-bit integer`);
  reserve(8);
  arena.writeInt32BE(4, at);
  arena.writeInt32BE(value, at + 4);
  at += 8;
}

function writeFloat8(value: number, column: string): void {
  // NaN and infinities are float8 values Postgres would store, and every average over them would become NaN.
  if (!Number.isFinite(value)) throw new Error(`${column} is not a finite number`);
  reserve(12);
  arena.writeInt32BE(8, at);
  arena.writeDoubleBE(value, at + 4);
  at += 12;
}

function writeNullableBool(value: boolean | null | undefined): void {
  if (value == null) return writeNull();
  reserve(5);
  arena.writeInt32BE(1, at);
  arena[at + 4] = value ? 1 : 0;
  at += 5;
}

/**
 * A webhook's row as one tuple of COPY's binary format. Made once, when it is buffered: the buffer then holds its
 * bytes (outside the V8 heap, in an arena) instead of the objects it was made from.
 * Its text is already storable (makeStorable removed NUL and lone surrogates). Throws on a value its column cannot
 * hold (a malformed uuid or time): that record alone is given up.
 *
 * Column by column in COLUMN_TYPES' order, written out rather than looped over: reading `record[column]` with
 * a different key each time, then switching on the column's type, cost 4.0 µs a tuple against 3.5 this way (both
 * in one process over 1,000 of the service's own webhooks, ten alternating rounds). A test writes a record with
 * a distinct value in every column and reads it back (tests/writeRecords.test.ts).
 */
export function serializeRecord(r: RequestRecord): Buffer {
  const json: RecordJsonText = r.jsonText ?? {};
  // A tuple given up half-written (a value its column cannot hold) is overwritten by the next one.
  at = rowStart;
  reserve(2);
  arena.writeInt16BE(FIELD_COUNT, at);
  at += 2;
  writeUuid(r.id, 'id');
  writeTimestamp(r.created_at, 'created_at');
  writeNullableText(r.source_ip);
  writeNullableText(r.user_agent);
  writeJson(json.headers, r.headers);
  writeJson(json.payload, r.payload);
  writeInt4(r.payload_size, 'payload_size');
  writeNullableText(r.signature);
  writeNullableBool(r.signature_valid);
  writeFloat8(r.processing_time_ms, 'processing_time_ms');
  writeRequiredText(r.status, 'status');
  writeInt4(r.http_status, 'http_status');
  writeNullableText(r.error_code);
  writeNullableText(r.error_message);
  writeNullableText(r.error_stack);
  writeNullableUuid(r.signal_id, 'signal_id');
  writeNullableText(r.outcome);
  writeNullableText(r.decline_reason);
  writeNullableText(r.ticker);
  writeNullableText(r.action);
  writeNullableText(r.strategy);
  writeNullableText(r.trace_id);
  writeNullableUuid(r.replay_of, 'replay_of');
  writeNullableText(r.payload_sha256);
  if (r.truncation == null) writeNull();
  else writeText(JSON.stringify(r.truncation), JSONB_VERSION);
  writeJson(undefined, r.stages);
  const row = arena.subarray(rowStart, at);
  rowStart = at;
  return row;
}

/** A tuple's id (its first field, 16 bytes after the field count and the field's length) as 32 hex digits. */
export function idOfRow(row: Buffer): string {
  return row.toString('hex', 6, 22);
}
