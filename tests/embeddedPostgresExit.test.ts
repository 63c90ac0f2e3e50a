import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { projectRoot } from '../src/db/projectRoot.js';
import { freePort } from './support/freePort.js';
import { startServiceProcess } from './support/startServiceProcess.js';
import { TEST_ADMIN_TOKEN, TEST_SECRET } from './support/startTestService.js';
import { waitFor } from './support/waitFor.js';

const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The postmaster's pid, from its postmaster.pid (DATA_DIR/pg, or where that links to); undefined once it is gone. */
async function postmasterOf(dataDir: string): Promise<number | undefined> {
  const text = await readFile(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').catch(() => undefined);
  const pid = text === undefined ? NaN : Number(text.split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 && isRunning(pid) ? pid : undefined;
}

describe('the embedded Postgres and the service process around it', function () {
  this.timeout(120_000);

  it('the service stops and exits 1, saying why, instead of answering 503 for ever (a supervisor then restarts it)', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'tvw-pgexit-'));
    const proc = await startServiceProcess({ DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(await freePort()), LOG_LEVEL: 'info' });
    try {
      assert.equal((await fetch(`${proc.url}/readyz`)).status, 200);
      // The postmaster's pid is the first line of its postmaster.pid (DATA_DIR/pg, or where that links to).
      const postmaster = await postmasterOf(dataDir);
      assert.ok(postmaster !== undefined);
      process.kill(postmaster, 'SIGKILL');
      await waitFor(async () => !isRunning(proc.pid), { timeoutMs: 30_000, what: `the service to exit after Postgres died:\n${proc.output().slice(-1500)}` });
      assert.equal(await proc.stop(), 1, proc.output().slice(-1500));
      assert.match(proc.output(), /the embedded PostgreSQL exited; stopping \(exit code 1\)/);
    } finally {
      await proc.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('a signal during start-up (migrations) stops the service once started, and the embedded Postgres with it', async () => {
    const root = projectRoot();
    const dataDir = await mkdtemp(path.join(tmpdir(), 'tvw-startsig-'));
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', path.join(root, 'src/telemetry/instrumentation.ts'), path.join(root, 'src/main.ts')], {
      cwd: root,
      env: {
        ...process.env, PORT: String(await freePort()), OPS_PORT: String(await freePort()), HOST: '127.0.0.1', DATA_DIR: dataDir,
        EMBEDDED_PG_PORT: String(await freePort()), WEBHOOK_SECRETS: TEST_SECRET, ADMIN_TOKEN: TEST_ADMIN_TOKEN, LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let signalled = false;
    const onData = (c: Buffer) => {
      output += c;
      // The first migration applied: Postgres is up, the service is not ready yet.
      if (!signalled && /"msg":"migration applied"/.test(output)) {
        signalled = true;
        child.kill('SIGTERM');
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    try {
      const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
      assert.ok(signalled, `no migration was applied:\n${output.slice(-1500)}`);
      assert.deepEqual([code, signal], [0, null], output.slice(-1500));
      assert.match(output, /signal during start-up: stopping as soon as the service has started/);
      assert.equal(await postmasterOf(dataDir), undefined, 'the embedded Postgres stopped with the service (before, it was left running)');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      const orphan = await postmasterOf(dataDir);
      if (orphan !== undefined) process.kill(orphan, 'SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
