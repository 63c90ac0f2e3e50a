import { Client } from 'undici';

/** How a request got its connection: an idle one, a new one, or one that came free while it waited in the pool. */
export type Connection = 'reused' | 'opened' | 'queued';

export interface ConnectionPool {
  /** Calls `use` with a connection as soon as there is one, and says how the request got it. */
  acquire(use: (client: Client, how: Connection) => void): void;
  /** The request on `client` is done; `keep` false when the connection is broken or the server closes it. */
  release(client: Client, keep: boolean): void;
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
 * Each connection is an undici Client (HTTP/1.1, one request at a time). Why not Node's http.request: at twice
 * the service's rate the generator and the service share the machine's two cores (the bench's process took
 * 80-100% of a core in the overload phase), and Node's client cost 52-70 µs of CPU a request against undici's
 * 40-59 (bench/generatorCost.ts): time the service under test lost, and the generator's own lateness added to
 * every latency it measured.
 */
export function makeConnectionPool(origin: string, options: ConnectionPoolOptions): ConnectionPool {
  const free: Client[] = [];
  const waiting: Array<(client: Client, how: Connection) => void> = [];
  const all = new Set<Client>();
  /** Connections handed to a request and not yet released. */
  const busy = new Set<Client>();
  const drop = (client: Client) => {
    all.delete(client);
    client.destroy().catch(() => undefined);
  };
  const open = () => {
    const client = new Client(origin, {
      pipelining: 1,
      connectTimeout: options.timeoutMs,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
    // An idle connection the server (or undici's keep-alive timer) closed is forgotten, as the agent forgets a
    // closed free socket: undici would otherwise reconnect it silently, and a new connection count as reused.
    // A busy one that breaks is released by its request's error.
    client.on('disconnect', () => {
      const at = free.indexOf(client);
      if (at === -1) return;
      free.splice(at, 1);
      drop(client);
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
      const clients = [...all];
      all.clear();
      busy.clear();
      free.length = 0;
      await Promise.all(clients.map((c) => c.destroy().catch(() => undefined)));
    },
  };
}
