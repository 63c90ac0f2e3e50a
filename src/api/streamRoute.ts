import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { WebhookError } from '../domain/errors.js';
import type { Metrics } from '../telemetry/makeMetrics.js';
import type { StreamEvent, WebhookStream } from '../telemetry/webhookStream.js';

export interface StreamRouteDeps {
  requireAdmin: preHandlerAsyncHookHandler;
  stream: WebhookStream | undefined;
  metrics: Metrics | undefined;
  maxConnections: number;
  queueMaxEvents: number;
  /** A comment line this often keeps proxies from closing an idle stream (nginx's default is 60 s). */
  heartbeatMs?: number;
}

/**
 * `GET /api/monitoring/stream`: every webhook's outcome as it happens, as Server-Sent Events (`event: webhook`,
 * the record without payload and headers). Each connection has its own queue of at most `queueMaxEvents`:
 * a client that reads slower than webhooks arrive loses the oldest events, and is sent `event: dropped` with how
 * many before the next one (counted in monitoring_stream_dropped_events_total). At most `maxConnections` are
 * open; when the service drains, every stream ends so that shutdown is not held open.
 */
export function registerStreamRoute(app: FastifyInstance, deps: StreamRouteDeps): void {
  const open = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of [...open]) end();
  });

  app.get('/api/monitoring/stream', { preHandler: deps.requireAdmin }, async (request, reply) => {
    const stream = deps.stream;
    if (!stream) throw new WebhookError('WH_ERR_NOT_FOUND', 'No live stream: monitoring is off (MONITORING_ENABLED=false).');
    if (open.size >= deps.maxConnections) {
      throw new WebhookError('WH_ERR_RATE_LIMITED', `${open.size} live streams are open, the most STREAM_MAX_CONNECTIONS allows: close one first.`);
    }
    reply.hijack();
    const raw: ServerResponse = reply.raw;
    const heartbeatMs = deps.heartbeatMs ?? 15_000;
    // The listener closes a connection idle for REQUEST_TIMEOUT_MS (10 s; its connectionTimeout), and a quiet
    // service sends nothing for minutes: the stream was cut after 10 s without a webhook, and a browser lost the
    // events of every reconnection's gap. A stream is idle only while its client does not read (heartbeats wait for
    // the socket to drain): after three heartbeats' time that client is gone, and its connection is closed.
    request.raw.socket.setTimeout(3 * heartbeatMs);
    // Fastify's headers (the security headers among them) are only written for answers it sends itself.
    raw.writeHead(200, {
      ...(reply.getHeaders() as OutgoingHttpHeaders),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    raw.write(`retry: 5000\n: connected; one "webhook" event per finished webhook\n\n`);

    const queue: StreamEvent[] = [];
    let dropped = 0;
    let waitingForDrain = false;
    const flush = () => {
      while (!waitingForDrain && (queue.length > 0 || dropped > 0)) {
        let chunk: string;
        if (dropped > 0) {
          chunk = `event: dropped\ndata: ${JSON.stringify({ dropped })}\n\n`;
          dropped = 0;
        } else {
          const event = queue.shift()!;
          chunk = `event: webhook\nid: ${event.id}\ndata: ${JSON.stringify(event)}\n\n`;
        }
        // false: the socket's buffer is full; the rest waits in the bounded queue until it drains.
        if (!raw.write(chunk)) {
          waitingForDrain = true;
          raw.once('drain', () => {
            waitingForDrain = false;
            flush();
          });
        }
      }
    };
    const unsubscribe = stream.subscribe((event) => {
      queue.push(event);
      if (queue.length > deps.queueMaxEvents) {
        queue.shift();
        dropped += 1;
        deps.metrics?.streamDroppedEvents.inc();
      }
      flush();
    });
    const heartbeat = setInterval(() => {
      if (!waitingForDrain) raw.write(': heartbeat\n\n');
    }, heartbeatMs);
    heartbeat.unref();

    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      unsubscribe();
      clearInterval(heartbeat);
      open.delete(end);
      deps.metrics?.streamConnections.set(open.size);
      if (!raw.writableEnded) raw.end();
    };
    open.add(end);
    deps.metrics?.streamConnections.set(open.size);
    request.raw.on('close', end);
    raw.on('error', end);
  });
}
