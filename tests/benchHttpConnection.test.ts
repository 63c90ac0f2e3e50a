import assert from 'node:assert/strict';
import net from 'node:net';
import { makeHttpConnection, type Answer } from '../bench/makeHttpConnection.js';

/**
 * The bench generator's HTTP/1.1 connection: it must read every answer a server can frame (Content-Length,
 * chunked, up to the close), in whatever pieces TCP delivers it, and never count a broken or silent answer.
 */
describe('bench http connection: answers read whole, however they are framed and split', () => {
  let server: net.Server;
  let port: number;
  /** What the server does with the next request it reads: its answer's bytes, in pieces, or nothing. */
  let script: (socket: net.Socket) => void;
  const requests: string[] = [];
  before(async () => {
    server = net.createServer((socket) => {
      let seen = '';
      socket.on('data', (d: Buffer) => {
        seen += d.toString('latin1');
        if (!seen.includes('\r\n\r\n')) return;
        requests.push(seen);
        seen = '';
        script(socket);
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  after(() => server.close());

  const connect = (timeoutMs = 5000) => {
    let closes = 0;
    const connection = makeHttpConnection({ host: '127.0.0.1', port, timeoutMs, onClose: () => (closes += 1) });
    return { connection, closes: () => closes };
  };
  const ask = (connection: ReturnType<typeof makeHttpConnection>, readBody = true) =>
    new Promise<Answer>((resolve, reject) =>
      connection.send('POST /hook HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}', readBody, (error, answer) => (error ? reject(error) : resolve(answer!))),
    );
  /** Writes `pieces` one by one, a few milliseconds apart, so that each arrives as its own TCP segment. */
  const trickle = (socket: net.Socket, pieces: string[]) => {
    let i = 0;
    const next = () => {
      if (i < pieces.length) socket.write(pieces[i++]!, () => setTimeout(next, 3));
    };
    next();
  };

  it('reads a Content-Length answer split in every piece, then the next one on the same connection', async () => {
    const answer = 'HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\ncontent-length: 11\r\n\r\n{"error":1}';
    script = (socket) => trickle(socket, answer.split(''));
    const { connection } = connect();
    try {
      const first = await ask(connection);
      assert.deepEqual({ ...first, body: first.body!.toString() }, { status: 503, retryAfter: true, keepAlive: true, body: '{"error":1}' });
      script = (socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}');
      const second = await ask(connection, false);
      assert.deepEqual(second, { status: 200, retryAfter: false, keepAlive: true });
      assert.equal(requests.at(-1), 'POST /hook HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}');
    } finally {
      connection.destroy();
    }
  });

  it('reads a chunked answer, its chunks split across segments, and skips an interim 100 Continue', async () => {
    script = (socket) =>
      trickle(socket, ['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{"a"', '\r\n3\r\n:1}\r', '\n0\r\n', '\r\n']);
    const { connection } = connect();
    try {
      const answer = await ask(connection);
      assert.deepEqual({ ...answer, body: answer.body!.toString() }, { status: 200, retryAfter: false, keepAlive: true, body: '{"a":1}' });
    } finally {
      connection.destroy();
    }
  });

  it('says the connection is not kept when the server closes it, or frames the body by closing it', async () => {
    script = (socket) => socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    const a = connect();
    assert.deepEqual(await ask(a.connection), { status: 400, retryAfter: false, keepAlive: false, body: Buffer.alloc(0) });
    script = (socket) => socket.end('HTTP/1.1 200 OK\r\n\r\nuntil the end');
    const b = connect();
    const answer = await ask(b.connection);
    assert.deepEqual([answer.status, answer.keepAlive, answer.body!.toString()], [200, false, 'until the end']);
    for (let i = 0; i < 100 && b.closes() === 0; i += 1) await new Promise((r) => setTimeout(r, 5));
    assert.equal(b.closes(), 1);
  });

  it('counts an answer cut short by the close as an error, not as an answer', async () => {
    script = (socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{"sig');
    const { connection } = connect();
    await assert.rejects(ask(connection), /closed before the answer was complete/);
  });

  it('ends a request that gets no answer once it made no progress for timeoutMs', async () => {
    script = () => undefined;
    const { connection } = connect(50);
    const pending = ask(connection);
    const sweep = setInterval(() => connection.expireIfStale(performance.now()), 20);
    try {
      await assert.rejects(pending, /no progress for 50 ms/);
    } finally {
      clearInterval(sweep);
    }
  });

  it('refuses bytes nobody asked for: the connection is dropped, not trusted with the next request', async () => {
    script = (socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 200 OK\r\n');
    const { connection, closes } = connect();
    const answer = await ask(connection, false);
    assert.equal(answer.keepAlive, false);
    for (let i = 0; i < 100 && closes() === 0; i += 1) await new Promise((r) => setTimeout(r, 5));
    assert.equal(closes(), 1);
  });
});
