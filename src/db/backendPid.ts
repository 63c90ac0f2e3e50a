import pg from 'pg';

/** Connections whose pid in the protocol's BackendKeyData is the pid of their session on the server. */
const verified = new WeakMap<pg.ClientBase, number>();

/**
 * Checks that the pid Postgres reported when the connection opened is its session's own: a pooler in between
 * (PgBouncer, in session or transaction mode) reports a pid of its own, so ending "that session" would end nothing,
 * or someone else's. Run by the pools' `onConnect` hook (makePool), once per connection, before the connection is
 * lent, so no borrower's query runs beside it, and after pg-pool listens for the client's errors. A connection that
 * fails meanwhile is not lent: the error is rethrown, and pg-pool ends the client and hands the error to the
 * borrower. An error Postgres answered (the check refused, timed out) leaves the pid unverified.
 */
export async function verifyBackendPid(client: pg.ClientBase): Promise<void> {
  const reported = (client as unknown as { processID?: number | null }).processID;
  if (typeof reported !== 'number') return;
  try {
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    if (rows[0]?.pid === reported) verified.set(client, reported);
  } catch (err) {
    if (!(err instanceof pg.DatabaseError)) throw err;
  }
}

/** The connection's session pid on the server, when verifyBackendPid confirmed it; otherwise null. */
export function verifiedBackendPid(client: pg.ClientBase): number | null {
  return verified.get(client) ?? null;
}
