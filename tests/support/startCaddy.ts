import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { projectRoot } from '../../src/db/projectRoot.js';
import { freePort } from './freePort.js';
import { requestFrom } from './requestFrom.js';
import { TOOLS } from './stackTools.js';
import { waitFor } from './waitFor.js';

/**
 * What the test switches in the SHIPPED deploy/Caddyfile, through its CADDY_TEST_OPTIONS placeholder (Caddy
 * substitutes it as text before parsing): certificates from Caddy's internal CA instead of ACME, loopback
 * only, and no admin endpoint (it would want localhost:2019, which parallel runs would fight over).
 */
const TEST_OPTIONS = ['local_certs', 'default_bind 127.0.0.1', 'admin off'].join('\n');

export interface Caddy {
  domain: string;
  httpPort: number;
  httpsPort: number;
  /** Caddy's internal root CA (PEM), to trust in HTTPS requests. */
  rootCa: string;
  /** https://<domain>:<httpsPort>; dial 127.0.0.1 (requestFrom's connectTo) since the name is not in DNS. */
  url: string;
  log(): string;
  stop(): Promise<void>;
}

/**
 * Debian's caddy running deploy/Caddyfile on free loopback ports, with its own HOME and XDG folders (its data,
 * certificates and CA live there, and go with it), in front of `upstream` (host:port).
 */
export async function startCaddy(options: { upstream: string; domain?: string }): Promise<Caddy> {
  const domain = options.domain ?? 'tv.localhost';
  const dir = await mkdtemp(path.join(tmpdir(), 'tvw-caddy-'));
  const dataHome = path.join(dir, 'data');
  await mkdir(dataHome);
  await mkdir(path.join(dir, 'config'));
  const [httpPort, httpsPort] = [await freePort(), await freePort()];
  let log = '';
  // Its own process group (detached), so that stop() ends caddy and anything it started, and nothing else.
  const child = spawn(TOOLS.caddy, ['run', '--config', path.join(projectRoot(), 'deploy', 'Caddyfile'), '--adapter', 'caddyfile'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      XDG_DATA_HOME: dataHome,
      XDG_CONFIG_HOME: path.join(dir, 'config'),
      DOMAIN: domain,
      UPSTREAM: options.upstream,
      CADDY_HTTP_PORT: String(httpPort),
      CADDY_HTTPS_PORT: String(httpsPort),
      CADDY_TEST_OPTIONS: TEST_OPTIONS,
    },
  });
  child.stdout.on('data', (c) => (log += c));
  child.stderr.on('data', (c) => (log += c));
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      resolve();
    }),
  );
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (err) => reject(new Error(`${TOOLS.caddy} could not start (${err.message}); .ci/run installs Debian's caddy package`))),
  );
  const stop = async () => {
    if (exitCode === undefined && child.pid !== undefined) {
      process.kill(-child.pid, 'SIGTERM');
      const killer = setTimeout(() => child.pid !== undefined && process.kill(-child.pid, 'SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const url = `https://${domain}:${httpsPort}`;
  const rootCaPath = path.join(dataHome, 'caddy', 'pki', 'authorities', 'local', 'root.crt');
  try {
    const rootCa = await Promise.race([
      spawnError,
      waitFor(
        async () => {
          if (exitCode !== undefined) throw new Error(`caddy exited with ${exitCode}`);
          const ca = await readFile(rootCaPath, 'utf8');
          // Ready when a request over HTTPS, trusting only this CA, gets Caddy's own 404.
          const res = await requestFrom({ url: `${url}/ready-probe`, method: 'GET', connectTo: '127.0.0.1', ca });
          return res.status === 404 ? ca : undefined;
        },
        { timeoutMs: 20_000, what: 'caddy serving HTTPS' },
      ),
    ]);
    return { domain, httpPort, httpsPort, rootCa, url, log: () => log, stop };
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\ncaddy log:\n${log.slice(-2000)}`);
  }
}
