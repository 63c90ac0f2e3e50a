import type { Pool } from '../db/makePool.js';

/** Columns of JSON text (migration 0012) the detail shows: read back as the values they hold (its stages come from the view). */
const JSON_TEXT_COLUMNS = ['headers', 'payload'] as const;

/** The webhook's record, with its signal's execution status (null without a signal). */
export async function getWebhookRecord(pool: Pool, id: string) {
  const { rows } = await pool.query(
    `SELECT w.*, s.status AS execution_status, s.last_error AS execution_error
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
