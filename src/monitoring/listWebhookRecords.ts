import type { Pool } from '../db/makePool.js';

export interface WebhookFilter {
  status?: string;
  code?: string;
  ticker?: string;
  since?: Date;
  until?: Date;
  cursor?: string;
  limit: number;
}

const LIST_COLUMNS = `id, created_at, source_ip, user_agent, payload_size, signature, signature_valid, processing_time_ms, status,
  http_status, error_code, error_message, signal_id, outcome, decline_reason, ticker, action, strategy, trace_id, replay_of`;

/** Newest first; ids are UUIDv7, so `id < cursor` pages back in time. Headers and payload only in the detail. */
export async function listWebhookRecords(pool: Pool, f: WebhookFilter) {
  const { rows } = await pool.query(
    `SELECT ${LIST_COLUMNS}
       FROM webhook_requests
      WHERE ($1::text IS NULL OR status = $1)
        AND ($2::text IS NULL OR error_code = $2)
        AND ($3::text IS NULL OR ticker = $3)
        AND ($4::timestamptz IS NULL OR created_at >= $4)
        AND ($5::timestamptz IS NULL OR created_at < $5)
        AND ($6::uuid IS NULL OR id < $6)
      ORDER BY id DESC
      LIMIT $7`,
    [f.status ?? null, f.code ?? null, f.ticker ?? null, f.since ?? null, f.until ?? null, f.cursor ?? null, f.limit],
  );
  return rows;
}
