import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import path from 'node:path';
import { projectRoot } from '../src/db/projectRoot.js';
import { freePort } from './support/freePort.js';
import { sampleValue } from './support/metricsText.js';
import { alert, startTestService } from './support/startTestService.js';
import { waitFor } from './support/waitFor.js';
import { makeTempDir } from './support/makeTempDir.js';

/** `npm run worker` as its own process (src/workerMain.ts), beside a web process with WORKER_ENABLED=false. */
describe('worker process: executes what the web process queued, and serves its own /metrics', function () {
  this.timeout(60_000);

  it('executes a queued signal and counts it on WORKER_METRICS_PORT; SIGTERM stops it cleanly', async () => {
    const web = await startTestService({ WORKER_ENABLED: 'false' });
    const metricsPort = await freePort();
    const root = projectRoot();
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', path.join(root, 'src/telemetry/instrumentation.ts'), path.join(root, 'src/workerMain.ts')], {
      env: {
        // HOST is the public listener's; the worker's /metrics binds OPS_HOST (loopback by default).
        ...process.env, DATABASE_URL: web.db.url, HOST: '0.0.0.0', WORKER_METRICS_PORT: String(metricsPort), WORKER_POLL_INTERVAL_MS: '100',
        LOG_LEVEL: 'info', DATA_DIR: await makeTempDir('tvw-worker-'), SHUTDOWN_TIMEOUT_MS: '5000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
      await waitFor(async () => (await fetch(metricsUrl).catch(() => undefined))?.ok, { timeoutMs: 30_000, what: `worker metrics (${output.slice(-300)})` });
      const res = await web.post(alert({ price: 321 }));
      assert.equal(res.body.status, 'accepted');
      await waitFor(async () => {
        const s = await web.api(`/api/signals/${res.body.signalId}`);
        return s.body?.status === 'executed' || s.body?.signal?.status === 'executed';
      }, { what: `signal executed by the worker process (${output.slice(-500)})` });
      const text = await waitFor(async () => {
        const t = await (await fetch(metricsUrl)).text();
        return sampleValue(t, 'signal_executions_total', { executor: 'paper', outcome: 'filled' }) === 1 ? t : undefined;
      }, { what: 'execution counted on the worker /metrics' });
      assert.ok(sampleValue(text, 'process_resident_memory_bytes') > 0);
      const external = Object.values(networkInterfaces()).flat().find((a) => a?.family === 'IPv4' && !a.internal)?.address;
      if (external) await assert.rejects(fetch(`http://${external}:${metricsPort}/metrics`), 'worker /metrics is on loopback only');
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await web.close();
    }
  });
});
