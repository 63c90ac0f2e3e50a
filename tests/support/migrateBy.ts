import { runner } from 'node-pg-migrate';
import pg from 'pg';
import { MIGRATIONS_DIR } from '../../src/db/migrate.js';

/** Runs `count` of our migrations up or down from where the database is. */
export async function migrateBy(url: string, direction: 'up' | 'down', count: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await runner({ dbClient: client, dir: MIGRATIONS_DIR, migrationsTable: 'pgmigrations', direction, count, noLock: true, singleTransaction: true, log: () => undefined });
  } finally {
    await client.end();
  }
}
