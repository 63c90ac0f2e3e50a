import { randomInt } from 'node:crypto';
import type pg from 'pg';
import { UUID } from 'uuidv7';

/**
 * A declined BTCUSDT buy of `strategy` received at `receivedAt`, stored as the pipeline stores it: its id is the
 * UUIDv7 of that instant. Time is moved by writing the history a strategy would have sent, not by waiting for it.
 */
export async function insertSignalAt(pool: pg.Pool, strategy: string | null, receivedAt: Date): Promise<void> {
  const id = UUID.fromFieldsV7(receivedAt.getTime(), randomInt(0x1000), randomInt(0x40000000), randomInt(0x100000000)).toString();
  await pool.query(
    `INSERT INTO signals (id, webhook_id, dedupe_key, dedupe_until, ticker, action, strategy, status, received_at)
     VALUES ($1::uuid, $1::uuid, 'h:' || $1::text, $2, 'BTCUSDT', 'buy', $3, 'declined', $2)`,
    [id, receivedAt, strategy],
  );
}

/** `count` signals of `strategy`, `everyMs` apart, the last at `lastAt` (ms since the epoch). */
export async function insertHistory(pool: pg.Pool, strategy: string | null, count: number, everyMs: number, lastAt: number): Promise<void> {
  for (let i = 0; i < count; i++) await insertSignalAt(pool, strategy, new Date(lastAt - i * everyMs));
}
