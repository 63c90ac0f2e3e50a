import { makeHttpConnection, type HttpConnection } from './makeHttpConnection.js';

/** How a request got its connection: an idle one, a new one, or one that came free while it waited in the pool. */
export type Connection = 'reused' | 'opened' | 'queued';

export interface ConnectionPool {
  /** Calls `use` with a connection as soon as there is one, and says how the request got it. */
  acquire(use: (connection: HttpConnection, how: Connection) => void): void;
  /** The request on `connection` is done; `keep` false when the connection is broken or the server closes it. */
  release(connection: HttpConnection, keep: boolean): void;
  /** Connections open now (idle or busy) and requests waiting for one. */
  stats(): { open: number; idle: number; waiting: number };
  close(): Promise<void>;
}

export interface ConnectionPoolOptions {
  /** Connections open at once, at most; past it requests wait in the pool, unseen by the server. */
  maxSockets: number;
  /** Idle connections kept; one freed beyond this is closed, and a later request opens a new one. */
  maxFreeSockets: number;
  /** Bound on a connection's connect, on the wait for an answer's head and between its body's chunks (ms). */
  timeoutMs: number;
}

/**
 * The bench's senders' connections, with the policy of Node's http.Agent (keepAlive, scheduling 'lifo') made
 * explicit: the idle connection used last is reused first, a new one is opened while fewer than `maxSockets`
 * are open, and past that requests wait in order for one to come free. Of the connections freed by a burst of
 * answers, at most `maxFreeSockets` are kept (256 is Node's default, and what its agent did here before): the
 * sender then opens new ones, and the server pays for the churn, as it does with a real sender's pool.
 *
 * Each connection is an HttpConnection (bench/makeHttpConnection.ts: HTTP/1.1, one request at a time). At twice the
 * service's rate the generator shares the machine's two cores with the service, so what it costs a request is
 * CPU the service under test does not get, and its own lateness is added to every latency it measures: Node's
 * http.request cost 52-70 µs a request on bench/generatorCost.ts, undici 40-59, this connection less (see
 * docs/benchmarks.md, tenth round). A timer every 250 ms ends requests that made no progress for `timeoutMs`.
 */
export function makeConnectionPool(origin: string, options: ConnectionPoolOptions): ConnectionPool {
  const { hostname, port } = new URL(origin);
  const host = hostname.replace(/^\[|\]$/g, '');
  const free: HttpConnection[] = [];
  const waiting: Array<(client: HttpConnection, how: Connection) => void> = [];
  const all = new Set<HttpConnection>();
  /** Connections handed to a request and not yet released. */
  const busy = new Set<HttpConnection>();
  const drop = (client: HttpConnection) => {
    all.delete(client);
    client.destroy();
  };
  const sweep = setInterval(() => {
    const now = performance.now();
    for (const client of busy) client.expireIfStale(now);
  }, 250);
  sweep.unref();
  const open = () => {
    const client: HttpConnection = makeHttpConnection({
      host,
      port: Number(port || 80),
      timeoutMs: options.timeoutMs,
      // An idle connection the server closed is forgotten, as the agent forgets a closed free socket: the next
      // request opens a new connection, counted as opened. A busy one that breaks is released by its request's error.
      onClose: () => {
        const at = free.indexOf(client);
        if (at === -1) return;
        free.splice(at, 1);
        all.delete(client);
      },
    });
    all.add(client);
    return client;
  };
  return {
    acquire(use) {
      const idle = free.pop();
      const client = idle ?? (all.size < options.maxSockets ? open() : undefined);
      if (!client) {
        waiting.push(use);
        return;
      }
      busy.add(client);
      use(client, idle ? 'reused' : 'opened');
    },
    release(client, keep) {
      // Released twice, or never handed out: it is nobody's to hand on.
      if (!busy.delete(client)) return;
      const next = waiting.shift();
      if (!keep) {
        drop(client);
        // As the agent does when a connection dies with requests waiting: the next one gets a new connection.
        if (next) {
          const fresh = open();
          busy.add(fresh);
          next(fresh, 'queued');
        }
        return;
      }
      if (next) {
        busy.add(client);
        next(client, 'queued');
      } else if (free.length < options.maxFreeSockets) free.push(client);
      else drop(client);
    },
    stats: () => ({ open: all.size, idle: free.length, waiting: waiting.length }),
    async close() {
      clearInterval(sweep);
      const clients = [...all];
      all.clear();
      busy.clear();
      free.length = 0;
      for (const c of clients) c.destroy();
    },
  };
}
