import pg from 'pg';

/** Connections whose pid in the protocol's BackendKeyData is the pid of their session on the server. */
const verified = new WeakMap<pg.ClientBase, number>();

/**
 * Checks that the pid Postgres reported when the connection opened is its session's own: a pooler in between
 * (PgBouncer, in session or transaction mode) reports a pid of its own, so ending "that session" would end nothing,
 * or someone else's. A failed check leaves the pid unverified (the connection's own failure shows where it is used).
 */
export async function verifyBackendPid(client: pg.ClientBase): Promise<void> {
  const reported = (client as unknown as { processID?: number | null }).processID;
  if (typeof reported !== 'number') return;
  try {
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    if (rows[0]?.pid === reported) verified.set(client, reported);
  } catch {
    // unverified
  }
}

/** The connection's session pid on the server, when verifyBackendPid confirmed it; otherwise null. */
export function verifiedBackendPid(client: pg.ClientBase): number | null {
  return verified.get(client) ?? null;
}

/**
 * The pools' client: it verifies its session pid as part of connecting, before the pool lends it, so that no query
 * of a borrower runs beside the check (pg 8 deprecates a second query on a busy client). One query per connection.
 */
export class PidCheckedClient extends pg.Client {
  // pg-pool calls connect(callback); the promise form is kept for anyone else.
  override connect(): Promise<pg.Client>;
  override connect(callback: ((err: Error) => void) | ((err: null, client: pg.Client) => void)): void;
  override connect(callback?: ((err: Error) => void) | ((err: null, client: pg.Client) => void)): Promise<pg.Client> | void {
    const connected = super.connect().then(async () => {
      await verifyBackendPid(this);
      return this as pg.Client;
    });
    if (!callback) return connected;
    connected.then(
      (client) => (callback as (err: null, client: pg.Client) => void)(null, client),
      (err: Error) => (callback as (err: Error) => void)(err),
    );
  }
}
