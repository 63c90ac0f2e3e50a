import type { Pool } from '../db/makePool.js';

const SQL = 'SELECT id::text AS id FROM signals WHERE id = ANY($1::uuid[])';

/** Which of these signal ids are stored (ids are made by the service, so a stored id is this very signal). */
export async function findStoredSignalIds(pool: Pool, ids: readonly string[]): Promise<Set<string>> {
  const { rows } = await pool.query<{ id: string }>(SQL, [ids]);
  return new Set(rows.map((r) => r.id));
}
