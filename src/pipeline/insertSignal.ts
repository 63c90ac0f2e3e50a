import type { Pool } from '../db/makePool.js';
import type { Signal } from '../domain/types.js';
import type { DedupeKey } from './makeDedupeKey.js';

export interface NewSignal {
  id: string;
  webhookId: string;
  signal: Signal;
  dedupe: DedupeKey;
  status: 'queued' | 'declined';
  declineReason: string | null;
  traceId: string | null;
  receivedAt: Date;
  /** W3C traceparent stored with the job, so that the worker's spans join the webhook's trace. */
  traceparent: string | null;
  maxAttempts: number;
}

/**
 * Inserts the signal and, when it is to be executed, its job, in ONE statement (so one transaction and one
 * round trip). The dedupe exclusion constraint makes the insert a no-op for a duplicate: then it returns
 * null and nothing is enqueued. Jobs of one symbol share a queue, so they execute in the order they came.
 */
const SQL = `
WITH inserted AS (
  INSERT INTO signals (id, webhook_id, dedupe_key, dedupe_until, ticker, exchange, action, quantity, price, strategy,
                       interval, alert_time, alert_id, order_id, market_position, position_size, extra, status,
                       decline_reason, trace_id, received_at)
  VALUES ($1, $2, $3, COALESCE($4::timestamptz, 'infinity'), $5, $6, $7, $8, $9, $10,
          $11, $12, $13, $14, $15, $16, $17, $18,
          $19, $20, $21)
  ON CONFLICT DO NOTHING
  RETURNING id, status
), job AS (
  SELECT graphile_worker.add_job(
           'execute_signal',
           json_build_object('signalId', id, 'traceparent', $22::text),
           queue_name := 'symbol:' || $5,
           max_attempts := $23::int,
           job_key := id::text) AS id
    FROM inserted
   WHERE status = 'queued'
)
SELECT inserted.id, (SELECT count(*) FROM job) AS jobs FROM inserted`;

export async function insertSignal(pool: Pool, s: NewSignal): Promise<{ inserted: boolean }> {
  const g = s.signal;
  const result = await pool.query(SQL, [
    s.id,
    s.webhookId,
    s.dedupe.key,
    s.dedupe.until,
    g.ticker,
    g.exchange,
    g.action,
    g.quantity,
    g.price,
    g.strategy,
    g.interval,
    g.alertTime,
    g.alertId,
    g.orderId,
    g.marketPosition,
    g.positionSize,
    JSON.stringify(g.extra),
    s.status,
    s.declineReason,
    s.traceId,
    s.receivedAt,
    s.traceparent,
    s.maxAttempts,
  ]);
  return { inserted: result.rowCount === 1 };
}
