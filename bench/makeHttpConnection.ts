import net from 'node:net';

/** An answer as the bench reads it: what its figures and checks need, nothing else. */
export interface Answer {
  status: number;
  /** The answer had a Retry-After header. */
  retryAfter: boolean;
  /** The connection may carry another request (no `Connection: close`, and the body's end was marked). */
  keepAlive: boolean;
  /** The body, when the request asked for it. */
  body?: Buffer;
}

export type AnswerCallback = (error: Error | undefined, answer?: Answer) => void;

export interface HttpConnection {
  /**
   * Writes one request (its bytes whole: request line, headers and body) and calls `done` once, with the answer
   * or with why there is none. One request at a time: the connection must be idle.
   */
  send(request: string, readBody: boolean, done: AnswerCallback): void;
  /** Ends a request that has waited past `timeoutMs` since its connection last moved (connect, write or data). */
  expireIfStale(nowMs: number): void;
  /** Closes the socket; a request on it is answered with an error. */
  destroy(): void;
}

export interface HttpConnectionOptions {
  host: string;
  port: number;
  /** The bound on a connect, on the wait for an answer's head and between its body's chunks (ms). */
  timeoutMs: number;
  /** The socket closed, by either side (called once). */
  onClose: () => void;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

/**
 * One HTTP/1.1 client connection over a TCP socket, made for the bench's paced generator: it writes a request
 * the caller already made into a string, and reads the answer's status, Retry-After, Connection and body
 * (Content-Length, chunked, or up to the close). Why not undici: at twice the service's rate the generator shares
 * the machine's two cores with the service under test, and undici's request machinery cost the generator about
 * 38 µs of CPU a request (V8 profile of the overload phase, 138 µs busy a request in all), CPU the service did not
 * get. The server sees the same bytes and the same connection policy (makeConnectionPool).
 */
export function makeHttpConnection(options: HttpConnectionOptions): HttpConnection {
  const socket = net.connect({ host: options.host, port: options.port });
  socket.setNoDelay(true);
  let closed = false;
  let lastMovedMs = performance.now();
  let current: { readBody: boolean; done: AnswerCallback } | undefined;
  let pending: Buffer | undefined;
  /** The parsed head of the answer being read, once its headers are in. */
  let head: { status: number; retryAfter: boolean; close: boolean; length: number; chunked: boolean; untilClose: boolean } | undefined;
  const bodyParts: Buffer[] = [];

  const finish = (error: Error | undefined, answer?: Answer) => {
    const request = current;
    current = undefined;
    head = undefined;
    pending = undefined;
    bodyParts.length = 0;
    request?.done(error, answer);
  };
  const fail = (error: Error) => {
    if (!closed) socket.destroy();
    if (current) finish(error);
  };

  /** Reads the head from `pending`, or returns false to wait for more bytes. */
  const readHead = (): boolean => {
    const end = pending!.indexOf(CRLFCRLF);
    if (end === -1) {
      if (pending!.length > 64 * 1024) fail(new Error('the answer\'s head is over 64 KiB'));
      return false;
    }
    const lines = pending!.toString('latin1', 0, end).split('\r\n');
    pending = pending!.subarray(end + 4);
    const status = Number(lines[0]!.slice(9, 12));
    if (!lines[0]!.startsWith('HTTP/1.') || !(status >= 100 && status < 600)) {
      fail(new Error(`not an HTTP/1.x status line: ${JSON.stringify(lines[0]!.slice(0, 40))}`));
      return false;
    }
    let length = -1;
    let chunked = false;
    let close = false;
    let retryAfter = false;
    for (let i = 1; i < lines.length; i += 1) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim().toLowerCase();
      if (name === 'content-length') length = Number(value);
      else if (name === 'transfer-encoding') chunked = value.split(',').some((t) => t.trim() === 'chunked');
      else if (name === 'connection') close ||= value.split(',').some((t) => t.trim() === 'close');
      else if (name === 'retry-after') retryAfter = true;
    }
    // An interim answer (100 Continue): its head is skipped, the real one follows.
    if (status < 200) return pending!.length > 0 ? readHead() : false;
    const noBody = status === 204 || status === 304;
    head = { status, retryAfter, close, length: noBody ? 0 : length, chunked: !noBody && chunked, untilClose: !noBody && !chunked && length < 0 };
    return true;
  };

  const keep = (bytes: Buffer) => {
    if (current!.readBody) bodyParts.push(bytes);
  };
  const complete = () => {
    const h = head!;
    const leftover = pending !== undefined && pending.length > 0;
    const answer: Answer = { status: h.status, retryAfter: h.retryAfter, keepAlive: !h.close && !h.untilClose && !leftover };
    if (current!.readBody) answer.body = Buffer.concat(bodyParts);
    // Bytes past the answer were never asked for (one request at a time): the connection is not trusted again.
    if (leftover) socket.destroy();
    finish(undefined, answer);
  };

  /** Reads chunked body framing from `pending`; true when the last chunk and its trailers are in. */
  const readChunks = (): boolean => {
    for (;;) {
      const lineEnd = pending!.indexOf('\r\n');
      if (lineEnd === -1) return false;
      const size = parseInt(pending!.toString('latin1', 0, lineEnd).split(';')[0]!, 16);
      if (Number.isNaN(size)) {
        fail(new Error('a chunk size that is not hexadecimal'));
        return false;
      }
      if (size === 0) {
        // Trailers end with an empty line; none are sent to the bench, so the common case is "0\r\n\r\n".
        const end = pending!.indexOf(CRLFCRLF, lineEnd);
        if (end === -1) return false;
        pending = pending!.subarray(end + 4);
        return true;
      }
      if (pending!.length < lineEnd + 2 + size + 2) return false;
      keep(pending!.subarray(lineEnd + 2, lineEnd + 2 + size));
      pending = pending!.subarray(lineEnd + 2 + size + 2);
    }
  };

  socket.on('connect', () => {
    lastMovedMs = performance.now();
  });
  socket.on('data', (chunk: Buffer) => {
    lastMovedMs = performance.now();
    if (!current) {
      fail(new Error('the server sent bytes no request asked for'));
      return;
    }
    pending = pending && pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    if (!head && !readHead()) return;
    const h = head!;
    if (h.chunked) {
      if (readChunks()) complete();
    } else if (h.untilClose) {
      keep(pending);
      pending = undefined;
    } else if (pending.length >= h.length) {
      keep(pending.subarray(0, h.length));
      pending = pending.subarray(h.length);
      complete();
    }
  });
  socket.on('error', (error) => fail(error));
  socket.on('close', () => {
    closed = true;
    // An answer without a length ends with its connection.
    if (current && head?.untilClose) complete();
    else if (current) finish(new Error('the connection closed before the answer was complete'));
    options.onClose();
  });

  return {
    send(request, readBody, done) {
      if (current) throw new Error('this connection already has a request in flight');
      if (closed) {
        queueMicrotask(() => done(new Error('the connection is closed')));
        return;
      }
      current = { readBody, done };
      lastMovedMs = performance.now();
      socket.write(request);
    },
    expireIfStale(nowMs) {
      if (current && nowMs - lastMovedMs > options.timeoutMs) fail(new Error(`no progress for ${options.timeoutMs} ms`));
    },
    destroy() {
      fail(new Error('the connection was destroyed'));
      if (!closed) socket.destroy();
    },
  };
}
