import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './support/freePort.js';
import { startServiceProcess } from './support/startServiceProcess.js';
import { waitFor } from './support/waitFor.js';

const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('the embedded Postgres exiting under a running service', function () {
  this.timeout(120_000);

  it('the service stops and exits 1, saying why, instead of answering 503 for ever (a supervisor then restarts it)', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'tvw-pgexit-'));
    const proc = await startServiceProcess({ DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(await freePort()), LOG_LEVEL: 'info' });
    try {
      assert.equal((await fetch(`${proc.url}/readyz`)).status, 200);
      // The postmaster's pid is the first line of its postmaster.pid (DATA_DIR/pg, or where that links to).
      const postmaster = Number((await readFile(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0]);
      assert.ok(postmaster > 0 && isRunning(postmaster));
      process.kill(postmaster, 'SIGKILL');
      await waitFor(async () => !isRunning(proc.pid), { timeoutMs: 30_000, what: `the service to exit after Postgres died:\n${proc.output().slice(-1500)}` });
      assert.equal(await proc.stop(), 1, proc.output().slice(-1500));
      assert.match(proc.output(), /the embedded PostgreSQL exited; stopping \(exit code 1\)/);
    } finally {
      await proc.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
