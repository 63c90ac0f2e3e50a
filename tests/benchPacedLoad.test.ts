import assert from 'node:assert/strict';
import http from 'node:http';
import { runPaced } from '../bench/pacedLoad.js';

/** The benchmark's open-loop generator: paced sends, and latency counted from each request's scheduled time. */
describe('bench paced load: latency from the scheduled send time', () => {
  let server: http.Server;
  let url: string;
  let received = 0;
  before(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received += 1;
        // ?holdMs=N: the answer waits N ms, so that the generator's connections stay busy.
        const query = new URL(req.url ?? '/', 'http://x').searchParams;
        const holdMs = Number(query.get('holdMs') ?? 0);
        // ?refuse=1: a 503 with Retry-After; ?close=1: the server closes the connection after its answer.
        if (query.get('refuse')) res.writeHead(503, { 'retry-after': '5' });
        if (query.get('close')) res.setHeader('connection', 'close');
        setTimeout(() => res.end('{}'), holdMs);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/api/webhooks/tradingview`;
  });
  after(() => server.close());

  it('sends exactly rate x duration requests and counts every answer', async () => {
    received = 0;
    const r = await runPaced(url, 200, 500, () => '{}');
    assert.equal(r.sent, 100);
    assert.equal(r.answered, 100);
    assert.equal(received, 100);
    assert.equal(r.statuses['200'], 100);
  });

  it('a stall in the sender shows in the latencies (no coordinated omission)', async () => {
    // Block the generator's own event loop for 200 ms early in the run: the requests due meanwhile go out
    // late, and their latency must include that wait even though the server answers at once.
    setTimeout(() => {
      const until = Date.now() + 200;
      while (Date.now() < until) { /* busy: nothing can be sent */ }
    }, 50);
    const r = await runPaced(url, 200, 600, () => '{}');
    assert.equal(r.answered, 120);
    assert.ok(r.latencyMs.max >= 150, `max ${r.latencyMs.max} ms includes the 200 ms stall`);
  });

  it('tells requests on reused, newly opened and awaited connections apart', async () => {
    // 5 requests 100 ms apart, answered at once: the first opens a connection, the others reuse it.
    const calm = await runPaced(url, 10, 500, () => '{}');
    const count = (r: typeof calm, k: 'reused' | 'opened' | 'queued') => r.timeline.reduce((n, w) => n + w[k].n, 0);
    assert.deepEqual([count(calm, 'opened'), count(calm, 'reused'), count(calm, 'queued')], [1, 4, 0]);
    // 10 requests 20 ms apart, each held 300 ms, at most 2 connections: 2 are opened, 8 wait in the generator
    // for one to come free (they must count as having waited, not as reused or opened).
    const busy = await runPaced(`${url}?holdMs=300`, 50, 200, () => '{}', { maxSockets: 2 });
    assert.equal(busy.answered, 10);
    assert.deepEqual([count(busy, 'opened'), count(busy, 'reused'), count(busy, 'queued')], [2, 0, 8]);
  });

  it('counts 503s with Retry-After, and hands each answer and its status to onAnswer', async () => {
    const seen: string[] = [];
    const r = await runPaced(`${url}?refuse=1`, 100, 100, () => '{}', { onAnswer: (status, body) => seen.push(`${status} ${body}`) });
    assert.deepEqual([r.statuses['503'], r.withRetryAfter], [10, 10]);
    assert.deepEqual(seen, Array(10).fill('503 {}'));
  });

  it('a connection the server closes is not reused: the next request opens one', async () => {
    const r = await runPaced(`${url}?close=1`, 10, 300, () => '{}');
    const opened = r.timeline.reduce((n, w) => n + w.opened.n, 0);
    assert.deepEqual([r.answered, r.errors, opened], [3, 0, 3]);
  });
});
