import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { projectRoot } from '../../src/db/projectRoot.js';
import { freePort } from './freePort.js';
import { TEST_ADMIN_TOKEN, TEST_SECRET } from './startTestService.js';
import { waitFor } from './waitFor.js';

export interface ServiceProcess {
  url: string;
  /** The operations listener: /metrics (and the admin API with ADMIN_API_ON_OPS). */
  opsUrl: string;
  pid: number;
  /** What the process has written to stdout and stderr so far (for failure messages). */
  output(): string;
  /** SIGTERM, then the exit code (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<number | null>;
}

/**
 * The web service as its own OS process, as a trader runs it (src/main.ts with the telemetry entry file
 * loaded by --import, through tsx so no build is needed), on a free port; resolves once GET /readyz is 200.
 */
export async function startServiceProcess(env: Record<string, string>, options: { runUnder?: string[] } = {}): Promise<ServiceProcess> {
  const root = projectRoot();
  const port = await freePort();
  const opsPort = await freePort();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'tvw-proc-'));
  const nodeArgs = ['--import', 'tsx', '--import', path.join(root, 'src/telemetry/instrumentation.ts'), path.join(root, 'src/main.ts')];
  // `runUnder`: a command the process is started through (prlimit, to run it under other limits).
  const [command, ...args] = [...(options.runUnder ?? []), process.execPath, ...nodeArgs];
  const child = spawn(command!, args, {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      OPS_PORT: String(opsPort),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      WEBHOOK_SECRETS: TEST_SECRET,
      ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      LOG_LEVEL: 'warn',
      SHUTDOWN_TIMEOUT_MS: '5000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c) => (output += c));
  child.stderr.on('data', (c) => (output += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const opsUrl = `http://127.0.0.1:${opsPort}`;
  const stop = async (timeoutMs = 10_000) => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
      await rm(dataDir, { recursive: true, force: true });
    }
  };
  try {
    await Promise.race([
      waitFor(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.ok, {
        timeoutMs: 45_000,
        what: `service process on ${url} ready`,
      }),
      exited.then((code) => {
        throw new Error(`service process exited with ${code} before it was ready:\n${output.slice(-1000)}`);
      }),
    ]);
  } catch (err) {
    await stop(2_000);
    throw new Error(`${(err as Error).message}\n${output.slice(-1000)}`, { cause: err });
  }
  return { url, opsUrl, pid: child.pid!, output: () => output, stop };
}
