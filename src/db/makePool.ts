import pg from 'pg';
import { ScramOnlyClient } from './ScramOnlyClient.js';
import { verifyBackendPid } from './backendPid.js';
import type { Logger } from 'pino';

// NUMERIC arrives as a string by default; our numeric columns hold prices and quantities that fit a double.
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (value) => Number(value));
// BIGINT (counts) as numbers: counts here stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export type Pool = pg.Pool;

/**
 * How much longer than the server's statement timeout our own wait for an answer lasts. The server must be the one
 * that gives up: a statement it cancels is rolled back, so a 503 means nothing was stored. With both bounds equal,
 * our timer (started before the statement was even sent) fired first, the webhook was answered 503, and the
 * statement, still waiting on a lock, could commit a moment later: a signal answered as failed was executed (seen in
 * CI, tests/prometheusScrape.test.ts). Our own bound is left for a server that stopped answering altogether.
 */
export const CLIENT_TIMEOUT_GRACE_MS = 250;

/**
 * Idle time after which a connection sends TCP keepalive probes. The request pool keeps a connection open through
 * quiet spells (`minOpen`), and a NAT, firewall or load balancer between the service and Postgres forgets an idle
 * flow silently (AWS's NAT gateway after 350 s, Azure's load balancer after 4 minutes): the first alert after a
 * quiet spell would be written into a connection that leads nowhere, wait out DB_TIMEOUT_MS and be answered 503. A
 * probe every 30 s of quiet keeps the flow known, and a connection whose peer is gone fails and is replaced.
 */
export const KEEPALIVE_IDLE_MS = 30_000;

/**
 * The request-path pool. Every query is bounded three ways by `timeoutMs`: getting a connection, the
 * server-side statement timeout, and a client-side query timeout `CLIENT_TIMEOUT_GRACE_MS` later (for a server
 * that vanished, the one case where whether a statement committed is unknown).
 * Client errors (the server restarting), idle or in use, are logged, never thrown: the pool replaces the client.
 */
export function makePool(options: {
  connectionString: string;
  max: number;
  timeoutMs: number;
  logger: Logger;
  applicationName?: string;
  /** Commit without waiting for the WAL flush (for data that may lose its last fraction of a second in a crash). */
  asynchronousCommit?: boolean;
  /**
   * Connections kept open however long they stay idle (0 unless given); the others close after `idleTimeoutMs`.
   * A connection opened for a query after a quiet spell cost 9-11 ms (TCP, a new backend, SCRAM), against 0.2-1.2
   * for a query on an open one: the first alert after a quiet minute waited for it.
   */
  minOpen?: number;
  /** How long a connection beyond `minOpen` may stay idle before it is closed: 30 s unless given. */
  idleTimeoutMs?: number;
  /** The embedded server: log in only by a completed SCRAM exchange (ScramOnlyClient). */
  scramOnly?: boolean;
}): Pool {
  const pool = new pg.Pool({
    ...(options.scramOnly ? { Client: ScramOnlyClient } : {}),
    // Each new connection's session pid, checked before it is lent (backendPid.ts), for queryKnowingOutcome.
    onConnect: verifyBackendPid,
    connectionString: options.connectionString,
    max: options.max,
    min: Math.min(options.minOpen ?? 0, options.max),
    connectionTimeoutMillis: options.timeoutMs,
    statement_timeout: options.timeoutMs,
    query_timeout: options.timeoutMs + CLIENT_TIMEOUT_GRACE_MS,
    idleTimeoutMillis: options.idleTimeoutMs ?? 30_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_IDLE_MS,
    application_name: options.applicationName ?? 'tv-webhook',
    ...(options.asynchronousCommit ? { options: '-c synchronous_commit=off' } : {}),
  });
  const name = options.applicationName ?? 'tv-webhook';
  pool.on('error', (err) => options.logger.warn({ err, pool: name }, 'idle database client failed; it will be replaced'));
  // A client in use whose session ends between two queries emits 'error' itself: unheard, that is an uncaught
  // exception (the process would die). graphile-worker 0.18 also warns on stderr about a pool without this.
  pool.on('connect', (client) => {
    client.on('error', (err) => options.logger.warn({ err, pool: name }, 'database client in use lost its connection; it will be replaced'));
  });
  return pool;
}

/**
 * Ends the pool and waits (at most `timeoutMs`) until every client has really closed its connection. pg's
 * `pool.end()` resolves once clients are taken out of the pool, before their connections are closed; a server
 * stopped right after it would end those sessions itself and each would log an error (seen at every Ctrl-C).
 */
export async function closePool(pool: Pool, timeoutMs = 2_000): Promise<void> {
  let open = pool.totalCount;
  const closed = new Promise<void>((resolve) => {
    if (open === 0) resolve();
    pool.on('remove', () => {
      open -= 1;
      if (open <= 0) resolve();
    });
  });
  await pool.end();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
}
