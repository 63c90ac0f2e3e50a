import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Pool } from '../db/makePool.js';
import { sqlStateOf } from '../db/sqlStateOf.js';
import { toError } from '../domain/errors.js';
import { COLUMN_LIST, COPY_BINARY_HEADER, COPY_BINARY_TRAILER, idOfRow } from './serializeRecord.js';

/**
 * One statement, one round trip, one row per webhook per batch, whatever its size: COPY, the cheapest way into a
 * table for Postgres. Measured on 960 of the service's own records inserted 20 times (2 cores, backend CPU from
 * /proc): 31-33 µs a record with COPY, against 50 µs when the rows travelled as one JSON array through
 * jsonb_populate_recordset (the previous statement). Binary, not text: see serializeRecord.
 */
const COPY_SQL = `COPY webhook_requests (${COLUMN_LIST}) FROM STDIN (FORMAT binary)`;

/**
 * COPY has no ON CONFLICT. When a batch was in fact committed before its write timed out, its retry meets its
 * own rows (unique_violation): the rows already stored are looked up by id and only the others are copied. Rare,
 * so its extra statement does not matter; it needs no privilege beyond the COPY's (no temporary table).
 */
const STORED_IDS_SQL = "SELECT replace(id::text, '-', '') AS id FROM webhook_requests WHERE id = ANY($1::uuid[])";

const UNIQUE_VIOLATION = '23505';

/**
 * Bytes of COPY data per chunk at most (a longer row is a chunk of its own). pg-copy-streams sends each chunk as
 * a CopyData message with two socket writes, so a chunk per row cost two system calls a record. Measured writing
 * 40 batches of 500 of the service's records (1.2 KB each), six alternating rounds: 18-26 µs of Node CPU a record
 * with a chunk per row, 6.3-9.7 µs with 64 KiB chunks (about 50 rows; 17.4 µs in the first, cold round).
 */
export const COPY_CHUNK_BYTES = 64 * 1024;

/**
 * A batch's COPY data: the binary format's header, the rows (tuples, see serializeRecord) in order, its trailer.
 * Rows that lie next to each other in memory (consecutive rows of one arena: serializeRecord writes them so) go
 * as one chunk, a view of their bytes, up to `maxBytes`: nothing is copied. Other rows (a batch's retry without
 * the rows already stored, a row that moved to a new arena) start a new chunk.
 */
export function* joinRows(rows: readonly Buffer[], maxBytes = COPY_CHUNK_BYTES): Generator<Buffer> {
  yield COPY_BINARY_HEADER;
  let memory: ArrayBufferLike | undefined;
  let start = 0;
  let end = 0;
  for (const row of rows) {
    if (row.buffer === memory && row.byteOffset === end && end - start + row.length <= maxBytes) {
      end += row.length;
      continue;
    }
    if (memory !== undefined) yield Buffer.from(memory, start, end - start);
    memory = row.buffer;
    start = row.byteOffset;
    end = start + row.length;
  }
  if (memory !== undefined) yield Buffer.from(memory, start, end - start);
  yield COPY_BINARY_TRAILER;
}

async function copyRows(client: pg.PoolClient, rows: Buffer[]): Promise<void> {
  await pipeline(Readable.from(joinRows(rows)), client.query(copyFrom(COPY_SQL)));
}

export async function writeRecords(pool: Pool, rows: Buffer[], timeoutMs: number): Promise<void> {
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
      if (sqlStateOf(thrown) !== UNIQUE_VIOLATION || broken) throw thrown;
      const stored = new Set((await client.query<{ id: string }>(STORED_IDS_SQL, [rows.map(idOfRow)])).rows.map((r) => r.id));
      const rest = rows.filter((row) => !stored.has(idOfRow(row)));
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
  return /^(22|23|54)/.test(sqlStateOf(err) ?? '');
}
