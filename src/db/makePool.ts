import pg from 'pg';
import type { Logger } from 'pino';

// NUMERIC arrives as a string by default; our numeric columns hold prices and quantities that fit a double.
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (value) => Number(value));
// BIGINT (counts) as numbers: counts here stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export type Pool = pg.Pool;

/**
 * The request-path pool. Every query is bounded three ways by `timeoutMs`: getting a connection, the
 * server-side statement timeout, and a client-side query timeout (which also covers a server that vanished).
 * Idle-client errors (the server restarting) are logged, never thrown: the pool replaces the client.
 */
export function makePool(options: {
  connectionString: string;
  max: number;
  timeoutMs: number;
  logger: Logger;
  applicationName?: string;
  /** Commit without waiting for the WAL flush (for data that may lose its last fraction of a second in a crash). */
  asynchronousCommit?: boolean;
}): Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max,
    connectionTimeoutMillis: options.timeoutMs,
    statement_timeout: options.timeoutMs,
    query_timeout: options.timeoutMs,
    idleTimeoutMillis: 30_000,
    application_name: options.applicationName ?? 'tv-webhook',
    ...(options.asynchronousCommit ? { options: '-c synchronous_commit=off' } : {}),
  });
  pool.on('error', (err) => options.logger.warn({ err }, 'idle database client failed; it will be replaced'));
  return pool;
}
