import type { Pool } from '../db/makePool.js';

/** The statuses a record is filed under: its own, the one its sender was answered, or an error code. */
export type StatusFilter = { column: 'status' | 'outcome' | 'error_code'; value: string };

export interface WebhookFilter {
  status?: StatusFilter;
  /** The execution status of the webhook's signal (queued, executing, executed, failed, declined). */
  execution?: string;
  code?: string;
  ticker?: string;
  since?: Date;
  until?: Date;
  cursor?: string;
  limit: number;
}

const LIST_COLUMNS = `w.id, w.created_at, w.source_ip, w.user_agent, w.payload_size, w.signature, w.signature_valid,
  w.processing_time_ms, w.status, w.http_status, w.error_code, w.error_message, w.signal_id, w.outcome, w.decline_reason,
  w.ticker, w.action, w.strategy, w.trace_id, w.replay_of, s.status AS execution_status, s.last_error AS execution_error`;

/**
 * Newest first; ids are UUIDv7, so `id < cursor` pages back in time. Headers and payload only in the detail.
 * Each webhook comes with its signal's execution status: a webhook answered `accepted` whose trade failed later
 * is found with `execution=failed`.
 */
export async function listWebhookRecords(pool: Pool, f: WebhookFilter) {
  const { rows } = await pool.query(
    `SELECT ${LIST_COLUMNS}
       FROM webhook_requests w
       LEFT JOIN signals s ON s.id = w.signal_id
      WHERE ($1::text IS NULL OR w.status = $1)
        AND ($2::text IS NULL OR w.error_code = $2)
        AND ($3::text IS NULL OR w.ticker = $3)
        AND ($4::timestamptz IS NULL OR w.created_at >= $4)
        AND ($5::timestamptz IS NULL OR w.created_at < $5)
        AND ($6::uuid IS NULL OR w.id < $6)
        AND ($8::text IS NULL OR w.outcome = $8)
        AND ($9::text IS NULL OR s.status = $9)
      ORDER BY w.id DESC
      LIMIT $7`,
    [
      f.status?.column === 'status' ? f.status.value : null,
      f.status?.column === 'error_code' ? f.status.value : (f.code ?? null),
      f.ticker ?? null,
      f.since ?? null,
      f.until ?? null,
      f.cursor ?? null,
      f.limit,
      f.status?.column === 'outcome' ? f.status.value : null,
      f.execution ?? null,
    ],
  );
  return rows;
}
