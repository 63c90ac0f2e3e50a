import http from 'node:http';

export interface ReceivedCall {
  /** The request path and query. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * A scripted answer: its status, body and extra headers after `delayMs`; with `bodyDelayMs`, the status and
 * headers go first and the body that much later (a target slow to finish its answer). 'hang' never answers.
 */
export type Reply = { status: number; body?: string; delayMs?: number; bodyDelayMs?: number; headers?: Record<string, string> } | 'hang';

/**
 * A local HTTP server standing in for a broker bridge: answers each call with the next scripted reply
 * (the last one repeats), and records what it received.
 */
export async function startTargetServer(replies: Reply[]) {
  const calls: ReceivedCall[] = [];
  const waiting: Array<() => void> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      calls.push({ url: req.url ?? '', headers: req.headers, body });
      waiting.splice(0).forEach((w) => w());
      const reply = replies[Math.min(calls.length - 1, replies.length - 1)]!;
      if (reply === 'hang') return;
      setTimeout(() => {
        res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
        const body = reply.body ?? JSON.stringify({ ok: reply.status < 300 });
        if (reply.bodyDelayMs === undefined) res.end(body);
        else {
          res.flushHeaders();
          setTimeout(() => res.end(body), reply.bodyDelayMs);
        }
      }, reply.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/orders`,
    calls,
    /** Resolves when the target has received at least `n` calls. */
    received(n: number): Promise<void> {
      if (calls.length >= n) return Promise.resolve();
      return new Promise((resolve) => {
        const check = () => (calls.length >= n ? resolve() : waiting.push(check));
        waiting.push(check);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
