import type { Pool } from '../db/makePool.js';

/** Columns of JSON text (migration 0012) the detail shows: read back as the values they hold (its stages come from the view). */
const JSON_TEXT_COLUMNS = ['headers', 'payload'] as const;

/**
 * A payload stored whole has no stored digest (makeStorable): its digest is its text's, the JSON the service wrote.
 * Computed here, for the one row read, instead of for every webhook on the way in.
 */
const PAYLOAD_SHA256 = "coalesce(w.payload_sha256, encode(sha256(convert_to(w.payload, 'UTF8')), 'hex'))";

/** The webhook's record, with its signal's execution status (null without a signal). */
export async function getWebhookRecord(pool: Pool, id: string) {
  // The computed digest comes after w.* and takes its column's name: the driver keeps the last of two fields.
  const { rows } = await pool.query(
    `SELECT w.*, ${PAYLOAD_SHA256} AS payload_sha256, s.status AS execution_status, s.last_error AS execution_error
       FROM webhook_requests w LEFT JOIN signals s ON s.id = w.signal_id
      WHERE w.id = $1`,
    [id],
  );
  const row = rows[0] as Record<string, any> | undefined;
  // The service wrote each as JSON.stringify's output; JSON.parse is what the driver did for a json column.
  if (row) for (const column of JSON_TEXT_COLUMNS) if (typeof row[column] === 'string') row[column] = JSON.parse(row[column]);
  return row;
}

/** The webhook's stages in the order they ran. */
export async function listStageRecords(pool: Pool, webhookId: string) {
  const { rows } = await pool.query(
    `SELECT * FROM processing_stages WHERE webhook_id = $1
      ORDER BY started_at, array_position(ARRAY['received','enriching','deciding','executing','completed','failed'], stage)`,
    [webhookId],
  );
  return rows;
}
