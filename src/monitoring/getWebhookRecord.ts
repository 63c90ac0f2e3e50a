import type { Pool } from '../db/makePool.js';

/** The webhook's record, with its signal's execution status (null without a signal). */
export async function getWebhookRecord(pool: Pool, id: string) {
  const { rows } = await pool.query(
    `SELECT w.*, s.status AS execution_status, s.last_error AS execution_error
       FROM webhook_requests w LEFT JOIN signals s ON s.id = w.signal_id
      WHERE w.id = $1`,
    [id],
  );
  return rows[0] as Record<string, any> | undefined;
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
