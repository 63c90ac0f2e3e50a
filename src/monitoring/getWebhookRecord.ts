import type { Pool } from '../db/makePool.js';

export async function getWebhookRecord(pool: Pool, id: string) {
  const { rows } = await pool.query('SELECT * FROM webhook_requests WHERE id = $1', [id]);
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
