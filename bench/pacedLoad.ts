import { performance } from 'node:perf_hooks';
import { percentile } from './stats.js';
import { makeConnectionPool, type Connection } from './makeConnectionPool.js';

export interface PacedResult {
  rate: number;
  durationMs: number;
  sent: number;
  answered: number;
  errors: number;
  statuses: Record<string, number>;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  /** Latency by HTTP status (ms). */
  byStatus: Record<string, { p50: number; p99: number; max: number }>;
  /** Answers with a Retry-After header. */
  withRetryAfter: number;
  /** How late the generator itself sent requests (ms after their scheduled time): its own share of the latency. */
  sendLagMs: { p50: number; p99: number };
  /**
   * By half-second of scheduled send time: answers, 503s, and latency (ms) of requests sent on a connection the
   * generator reused, on one it had to open (which waits for the server to accept it), and of those that first
   * waited inside the generator for one of its 4,096 connections to come free (the server cannot see them).
   */
  timeline: Array<{ fromMs: number; answers: number; unavailable: number; reused: Latencies; opened: Latencies; queued: Latencies }>;
}

interface Latencies { n: number; p50: number; p99: number }

export interface PacedOptions {
  /** Called with every answer's status and body (the body is only read when this is given). */
  onAnswer?: (status: number, body: string) => void;
  /** Connections the generator may hold open at once (4,096 by default). */
  maxSockets?: number;
}

/**
 * The bound on a connection's connect, on the wait for an answer's head and between its body's chunks; past it a
 * request counts as an error. (A wait inside the generator for a free connection is not bounded, as with
 * node:http's agent before: it is counted apart in the timeline.)
 */
const REQUEST_TIMEOUT_MS = 10_000;
/** Idle connections the generator keeps, as Node's http.Agent does by default (see makeConnectionPool). */
const MAX_FREE_SOCKETS = 256;

/**
 * Open-loop load: `rate` requests per second, evenly spaced, for `durationMs`. Each latency is timed from the
 * request's SCHEDULED send time, not from when it went out, so a stalled server or a late generator shows up
 * in the figures instead of silently lowering the rate (no coordinated omission). autocannon's fixed-rate
 * mode sends each connection's quota in a burst at the start of every second, which measures the burst.
 */
export async function runPaced(url: string, rate: number, durationMs: number, nextBody: () => string, options: PacedOptions = {}): Promise<PacedResult> {
  const target = new URL(url);
  const path = `${target.pathname}${target.search}`;
  // Up to 4,096 connections: TradingView opens a connection per alert as it needs, it has no cap of a few hundred.
  // With 512, past the server's rate the requests queued in the generator, where no server can see or refuse them
  // (at twice the sustained rate: p50 660 ms from send to receipt, p99 3 s, while the service answered what it
  // had read within 250 ms).
  const pool = makeConnectionPool(target.origin, { maxSockets: options.maxSockets ?? 4096, maxFreeSockets: MAX_FREE_SOCKETS, timeoutMs: REQUEST_TIMEOUT_MS });
  const total = Math.round((rate * durationMs) / 1000);
  const intervalMs = 1000 / rate;
  const latencies: number[] = [];
  const samples: Array<{ at: number; latency: number; status: number; connection: Connection }> = [];
  const byStatus: Record<string, number[]> = {};
  let withRetryAfter = 0;
  const sendLags: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let settled = 0;
  let sent = 0;
  let start = 0;

  await new Promise<void>((resolve) => {
    const done = () => {
      settled += 1;
      if (settled === total) resolve();
    };
    const send = (scheduled: number) => {
      sendLags.push(performance.now() - scheduled);
      const body = nextBody();
      const request = `POST ${path} HTTP/1.1\r\nhost: ${target.host}\r\nconnection: keep-alive\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
      pool.acquire((client, connection) => {
        client.send(request, options.onAnswer !== undefined, (error, answer) => {
          if (error || !answer) {
            errors += 1;
            pool.release(client, false);
            done();
            return;
          }
          const latency = performance.now() - scheduled;
          const { status } = answer;
          latencies.push(latency);
          samples.push({ at: scheduled - start, latency, status, connection });
          (byStatus[status] ??= []).push(latency);
          if (answer.retryAfter) withRetryAfter += 1;
          statuses[status] = (statuses[status] ?? 0) + 1;
          pool.release(client, answer.keepAlive);
          // Outside the connection's data handler: a throw from the caller's check surfaces instead of counting as an error.
          if (options.onAnswer) queueMicrotask(() => options.onAnswer!(status, answer.body!.toString('utf8')));
          done();
        });
      });
    };
    start = performance.now() + 5;
    // A 1 ms timer rather than a busy loop: the generator must not take the CPU the server needs. Requests
    // that fall due between ticks go out together, and their wait counts in their latency.
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * intervalMs <= now) {
        send(start + sent * intervalMs);
        sent += 1;
      }
      if (sent < total) setTimeout(tick, 1);
    };
    if (total === 0) resolve();
    else setTimeout(tick, 5);
  });
  await pool.close();
  const windows = new Map<number, typeof samples>();
  for (const x of samples) {
    const from = Math.floor(x.at / 500) * 500;
    let xs = windows.get(from);
    if (!xs) windows.set(from, (xs = []));
    xs.push(x);
  }
  const summary = (xs: typeof samples) => ({ n: xs.length, p50: percentile(xs.map((x) => x.latency), 50), p99: percentile(xs.map((x) => x.latency), 99) });
  const timeline = [...windows.entries()].sort((a, b) => a[0] - b[0]).map(([fromMs, xs]) => ({
    fromMs, answers: xs.length, unavailable: xs.filter((x) => x.status === 503).length,
    reused: summary(xs.filter((x) => x.connection === 'reused')),
    opened: summary(xs.filter((x) => x.connection === 'opened')),
    queued: summary(xs.filter((x) => x.connection === 'queued')),
  }));
  return {
    timeline,
    rate, durationMs, sent, answered: latencies.length, errors, statuses,
    latencyMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99), max: percentile(latencies, 100) },
    byStatus: Object.fromEntries(Object.entries(byStatus).map(([status, ls]) => [status, { p50: percentile(ls, 50), p99: percentile(ls, 99), max: percentile(ls, 100) }])),
    withRetryAfter,
    sendLagMs: { p50: percentile(sendLags, 50), p99: percentile(sendLags, 99) },
  };
}
