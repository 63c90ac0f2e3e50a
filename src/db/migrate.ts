import { runMigrations as runWorkerMigrations } from 'graphile-worker';
import { runner } from 'node-pg-migrate';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import { closePool } from './makePool.js';
import { projectRoot } from './projectRoot.js';
import { ScramOnlyClient } from './ScramOnlyClient.js';

/** Arbitrary constant that names "schema migration in progress" among advisory locks. */
const MIGRATION_LOCK_ID = 7_240_913_551;

export const MIGRATIONS_DIR = path.join(projectRoot(), 'src', 'db', 'migrations');

/**
 * Applies our versioned SQL migrations (node-pg-migrate, table `pgmigrations`) and graphile-worker's own
 * schema. Idempotent; two instances starting at once serialise on one advisory lock, and the second finds
 * nothing left to do.
 */
export async function migrate(connectionString: string, logger: Logger, options: { scramOnly?: boolean } = {}): Promise<void> {
  const Client = options.scramOnly ? ScramOnlyClient : pg.Client;
  const client = new Client({ connectionString, application_name: 'tv-webhook-migrate' });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    const applied = await runner({
      dbClient: client,
      dir: MIGRATIONS_DIR,
      migrationsTable: 'pgmigrations',
      direction: 'up',
      count: Infinity,
      // We hold our own lock, which also covers graphile-worker's migrations below.
      noLock: true,
      checkOrder: true,
      singleTransaction: true,
      log: (message: string) => logger.debug({ migration: message }, 'migration'),
    });
    for (const m of applied) logger.info({ migration: m.name }, 'migration applied');
    // Its own pool, closed with closePool: graphile-worker's pool from a connection string is ended without
    // waiting for its connections to close, and a database stopped right after (a failed start) then ended a
    // session under it, an uncaught error.
    const workerPool = new pg.Pool({ Client, connectionString, max: 1, application_name: 'tv-webhook-migrate' });
    workerPool.on('error', (err) => logger.warn({ err }, 'migration client failed'));
    // Without a 'connect' listener graphile-worker 0.18 printed "Your pool doesn't have all of the error
    // handlers!" on stderr at every start.
    workerPool.on('connect', (c) => c.on('error', (err) => logger.warn({ err }, 'migration client lost its connection')));
    try {
      await runWorkerMigrations({ pgPool: workerPool, logger: undefined });
    } finally {
      await closePool(workerPool);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}
