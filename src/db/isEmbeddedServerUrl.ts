/**
 * Whether a connection string reaches the embedded Postgres: a loopback address at EMBEDDED_PG_PORT. A second web
 * process on the same database is given it as DATABASE_URL (README, "With the embedded Postgres"), and it must log
 * in as carefully as the first (ScramOnlyClient): the port is free whenever the first process is stopped.
 */
export function isEmbeddedServerUrl(connectionString: string, embeddedPort: number): boolean {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    return false;
  }
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = Number(url.port || 5432);
  return port === embeddedPort && (host === '127.0.0.1' || host === 'localhost' || host === '::1');
}
