import pg from 'pg';
import { migrateBy } from './migrateBy.js';

/** Undoes our migrations newer than `name` (e.g. '0011_record_json_columns'), so a test of one migration survives the next ones. */
export async function migrateDownTo(url: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let newer: number;
  try {
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM pgmigrations WHERE name > $1', [name]);
    if ((await client.query('SELECT FROM pgmigrations WHERE name = $1', [name])).rowCount !== 1) throw new Error(`migration ${name} is not applied`);
    newer = rows[0]!.n;
  } finally {
    await client.end();
  }
  if (newer > 0) await migrateBy(url, 'down', newer);
}
