import type pg from 'pg';

/** The types of webhook_requests' JSON-holding columns (migrations 0011 and 0012 change them). */
export async function recordColumnTypes(pool: pg.Pool): Promise<Record<string, string>> {
  const { rows } = await pool.query(`SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'webhook_requests' AND column_name IN ('headers', 'payload', 'stages')`);
  return Object.fromEntries(rows.map((r) => [r.column_name, r.data_type]));
}

/** Every row of the processing_stages view, in a stable order. */
export async function stageViewRows(pool: pg.Pool): Promise<unknown[]> {
  return (await pool.query('SELECT * FROM processing_stages ORDER BY webhook_id, started_at, id')).rows;
}

/** The first record's payload, as stored: tabs, quotes and text beyond ASCII. */
export const STORED_PAYLOAD_TEXT = '{"ticker": "BTC", "note": "tab\\tand \\"quotes\\" é ✓"}';

/**
 * Two records as the service has stored them over time, whatever the columns' types: one with a compact stage
 * (migration 0009) and a failed one with metadata, one with a stage in its full form (before 0009). Three stages in
 * all. Returns the two webhook ids.
 */
export async function insertRecordsOfBothStageForms(pool: pg.Pool): Promise<[string, string]> {
  const webhooks: [string, string] = ['0192aaaa-0000-7000-8000-000000000001', '0192aaaa-0000-7000-8000-000000000002'];
  await pool.query(
    `INSERT INTO webhook_requests (id, created_at, headers, payload, payload_size, processing_time_ms, status, http_status, trace_id, stages)
     VALUES ($1, '2026-11-29T10:00:00Z', '{"content-type": "application/json"}', $4, 40, 1.5, 'success', 200, $3,
             '[{"stage": "received", "offset_ms": 0, "duration_ms": 0.25, "span_id": "00f067aa0ba902b7"},
               {"stage": "failed", "offset_ms": 0.25, "duration_ms": 0.5, "span_id": "00f067aa0ba902b8", "status": "failed", "error_message": "no", "metadata": {"k": 1}}]'),
            ($2, '2026-11-29T10:00:01Z', '{}', NULL, 0, 2, 'rejected', 401, $3,
             '[{"id": "0192aaaa-0000-7000-8000-0000000000ff", "stage": "received", "started_at": "2026-11-29T10:00:01Z", "completed_at": "2026-11-29T10:00:01.001Z", "duration_ms": 1, "status": "completed", "error_message": null, "metadata": {}, "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b9"}]')`,
    [webhooks[0], webhooks[1], '4bf92f3577b34da6a3ce929d0e0e4736', STORED_PAYLOAD_TEXT],
  );
  return webhooks;
}
