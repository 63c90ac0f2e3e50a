import assert from 'node:assert/strict';
import http from 'node:http';
import type { Socket } from 'node:net';
import type { HttpConnection } from '../bench/makeHttpConnection.js';
import { makeConnectionPool, type Connection } from '../bench/makeConnectionPool.js';

/** The bench generator's connections: Node's agent policy (lifo reuse, a cap, a bound on idle ones) made explicit. */
describe('bench connection pool: reuse, cap and idle bound', () => {
  let server: http.Server;
  let origin: string;
  const sockets = new Set<Socket>();
  let closed = 0;
  before(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('{}'));
    });
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.on('close', () => (closed += 1));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => server.close());

  const take = (pool: ReturnType<typeof makeConnectionPool>) =>
    new Promise<{ client: HttpConnection; how: Connection }>((resolve) => pool.acquire((client, how) => resolve({ client, how })));
  const ask = (client: HttpConnection) =>
    new Promise<number>((resolve, reject) =>
      client.send('POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}', false, (error, answer) => (error ? reject(error) : resolve(answer!.status))),
    );
  const waitFor = async (check: () => boolean) => {
    for (let i = 0; i < 200 && !check(); i += 1) await new Promise((r) => setTimeout(r, 5));
  };

  it('opens up to the cap, keeps at most maxFreeSockets idle, then reuses those and opens the rest again', async () => {
    sockets.clear();
    closed = 0;
    const pool = makeConnectionPool(origin, { maxSockets: 4, maxFreeSockets: 2, timeoutMs: 5000 });
    try {
      const first = await Promise.all([take(pool), take(pool), take(pool), take(pool)]);
      assert.deepEqual(first.map((x) => x.how), ['opened', 'opened', 'opened', 'opened']);
      assert.deepEqual(await Promise.all(first.map((x) => ask(x.client))), [200, 200, 200, 200]);
      assert.equal(sockets.size, 4);
      for (const x of first) pool.release(x.client, true);
      // Two of the four freed connections are kept; the generator closes the other two, and the server sees it.
      assert.deepEqual(pool.stats(), { open: 2, idle: 2, waiting: 0 });
      await waitFor(() => closed === 2);
      assert.equal(closed, 2);
      // The first two freed were kept: the one kept last is reused first (lifo), then the other, then a new one.
      const again = [await take(pool), await take(pool), await take(pool)];
      assert.deepEqual(again.map((x) => x.how), ['reused', 'reused', 'opened']);
      assert.deepEqual([again[0]!.client === first[1]!.client, again[1]!.client === first[0]!.client], [true, true]);
      await Promise.all(again.map((x) => ask(x.client)));
      assert.equal(sockets.size, 5);
      for (const x of again) pool.release(x.client, true);
    } finally {
      await pool.close();
    }
  });

  it('past the cap, requests wait in order for a freed connection; a broken one is replaced by a new connection', async () => {
    const pool = makeConnectionPool(origin, { maxSockets: 1, maxFreeSockets: 1, timeoutMs: 5000 });
    try {
      const held = await take(pool);
      const order: string[] = [];
      const second = take(pool).then((x) => (order.push('second'), x));
      const third = take(pool).then((x) => (order.push('third'), x));
      assert.deepEqual(pool.stats(), { open: 1, idle: 0, waiting: 2 });
      pool.release(held.client, true);
      const s = await second;
      assert.equal(s.how, 'queued');
      assert.equal(s.client, held.client);
      assert.equal(await ask(s.client), 200);
      // The connection breaks (keep false): the waiting request gets a new one, still counted as having waited.
      pool.release(s.client, false);
      const t = await third;
      assert.deepEqual([t.how, t.client === held.client, order], ['queued', false, ['second', 'third']]);
      assert.equal(await ask(t.client), 200);
      pool.release(t.client, true);
      assert.deepEqual(pool.stats(), { open: 1, idle: 1, waiting: 0 });
    } finally {
      await pool.close();
    }
  });

  it('forgets an idle connection the server closed: the next request opens a new one instead of counting it reused', async () => {
    const pool = makeConnectionPool(origin, { maxSockets: 4, maxFreeSockets: 4, timeoutMs: 5000 });
    try {
      const first = await take(pool);
      assert.equal(await ask(first.client), 200);
      pool.release(first.client, true);
      assert.deepEqual(pool.stats(), { open: 1, idle: 1, waiting: 0 });
      server.closeIdleConnections();
      await waitFor(() => pool.stats().open === 0);
      assert.deepEqual(pool.stats(), { open: 0, idle: 0, waiting: 0 });
      const next = await take(pool);
      assert.equal(next.how, 'opened');
      assert.notEqual(next.client, first.client);
      assert.equal(await ask(next.client), 200);
      pool.release(next.client, true);
      // A second release of the same request's connection changes nothing.
      pool.release(next.client, true);
      assert.deepEqual(pool.stats(), { open: 1, idle: 1, waiting: 0 });
    } finally {
      await pool.close();
    }
  });
});
