import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { startWorker } from '../src/execution/startWorker.js';
import { makeForwardExecutor } from '../src/execution/forwardExecutor.js';
import { alert, startTestService } from './support/startTestService.js';
import { quietLogger } from './support/testDatabase.js';
import { waitFor } from './support/waitFor.js';

/** A TCP proxy to Postgres that can drop every connection and refuse new ones for a while (Postgres away). */
async function startCuttableProxy(databaseUrl: string) {
  const target = new URL(databaseUrl);
  const sockets = new Set<net.Socket>();
  let refusing = false;
  const server = net.createServer((down) => {
    if (refusing) return void down.destroy();
    const up = net.connect(Number(target.port), target.hostname);
    for (const [a, b] of [[up, down], [down, up]] as const) {
      sockets.add(a);
      a.on('error', () => b.destroy());
      a.on('close', () => (sockets.delete(a), b.destroy()));
      a.pipe(b);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = Object.assign(new URL(databaseUrl), { hostname: '127.0.0.1', port: String((server.address() as net.AddressInfo).port) }).toString();
  return {
    url,
    /** Drops every connection and refuses new ones for `ms`. */
    cut(ms: number) {
      refusing = true;
      for (const s of sockets) s.destroy();
      setTimeout(() => (refusing = false), ms);
    },
    close: () => new Promise<void>((resolve) => (sockets.forEach((s) => s.destroy()), server.close(() => resolve()))),
  };
}

describe('worker: Postgres away while an order that went out is recorded', () => {
  it('keeps trying within the attempt, holding the job, for as long as Postgres is away: sent once, recorded once it is back, and the worker lives on', async () => {
    const svc = await startTestService(); // its own worker off: the one below reaches Postgres through the proxy
    const proxy = await startCuttableProxy(svc.db.url);
    let calls = 0;
    // The bridge takes the order, and Postgres goes away for 2.5 s (longer than EXECUTION_RECORD_RETRY_MS) just before
    // the answer arrives: neither the execution nor the kept order can be written until it is back.
    const bridge = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        calls += 1;
        proxy.cut(2_500);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"orderId":"B-11"}');
      });
    });
    await new Promise<void>((resolve) => bridge.listen(0, '127.0.0.1', resolve));
    const worker = await startWorker({
      connectionString: proxy.url,
      concurrency: 1,
      executor: makeForwardExecutor({ url: `http://127.0.0.1:${(bridge.address() as net.AddressInfo).port}/orders`, timeoutMs: 1_000 }),
      logger: quietLogger,
      pollIntervalMs: 100,
      recordRetryMs: 500,
    });
    try {
      const res = await svc.post(alert({ price: 130 }));
      const settled = await waitFor(async () => {
        const { body } = await svc.api(`/api/signals/${res.body.signalId}`);
        return body.signal.status === 'executed' ? body : undefined;
      }, { what: 'the order to be recorded', timeoutMs: 20_000 });
      assert.equal(settled.signal.attempts, 1, 'within the attempt that sent it');
      assert.deepEqual(settled.executions[0].response, { status: 200, body: '{"orderId":"B-11"}', truncated: false });
      assert.equal(calls, 1, 'the order was sent once');
      // The worker finishes the job and takes the next signal: it did not stop on the outage.
      const next = await svc.post(alert({ price: 131, ticker: 'ETHUSDT' }));
      await waitFor(async () => (await svc.api(`/api/signals/${next.body.signalId}`)).body.signal.status === 'executed', { what: 'the next signal', timeoutMs: 20_000 });
      assert.equal(worker.alive(), true);
    } finally {
      // A worker that stopped on its own fails the assertion above; stopping it again would hide why.
      if (worker.alive()) await worker.stop();
      else await worker.pool.end().catch(() => undefined);
      await proxy.close();
      await new Promise<void>((resolve) => bridge.close(() => resolve()));
      await svc.close();
    }
  });
});
