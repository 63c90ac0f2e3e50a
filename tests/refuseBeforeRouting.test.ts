import assert from 'node:assert/strict';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { pino } from 'pino';
import { makeLifecycle } from '../src/domain/lifecycle.js';
import { makeLoadShedder, type LoopDelayGauge } from '../src/pipeline/makeLoadShedder.js';
import { makeRateLimiter, type RateLimiter } from '../src/pipeline/makeRateLimiter.js';
import { parseIpAllowlist } from '../src/config/parseIpAllowlist.js';
import { refuseBeforeRouting, wasAdmittedBeforeRouting } from '../src/http/refuseBeforeRouting.js';
import type { FinishedWebhook } from '../src/telemetry/finishedWebhook.js';
import { getWebhookHub } from '../src/telemetry/webhookHub.js';
import { securityHeaders } from '../src/http/registerSecurityHeaders.js';
import { sampleValue, scrape } from './support/metricsText.js';
import { startOtlpReceiver } from './support/startOtlpReceiver.js';
import { alert, startTestService } from './support/startTestService.js';
import { waitFor } from './support/waitFor.js';

/** A loop-delay gauge the test sets: `behindMs` of delay, always busy (the shedder's own seam for tests). */
function gaugeBehind(state: { behindMs: number }): LoopDelayGauge {
  return { tick: () => undefined, sustainedDelayMs: () => state.behindMs, busyFraction: () => 1 };
}

interface Routed {
  url: string | undefined;
  method: string | undefined;
  admitted: boolean;
}

/** refuseBeforeRouting in front of a stand-in for Fastify that answers 200 and notes what reached it. */
async function startEdge(options: { behindMs: number; rateLimitPerMinute?: number; allowlist?: string; rateLimit?: RateLimiter; trustProxy?: (address: string, hop: number) => boolean }) {
  const state = { behindMs: options.behindMs };
  const lifecycle = makeLifecycle();
  lifecycle.set('ready');
  const shedder = makeLoadShedder(25, { gauge: gaugeBehind(state) });
  const routed: Routed[] = [];
  const route = (req: IncomingMessage, res: ServerResponse) => {
    routed.push({ url: req.url, method: req.method, admitted: wasAdmittedBeforeRouting(req) });
    res.end('routed');
  };
  const server = http.createServer(
    refuseBeforeRouting(
      {
        rateLimit: options.rateLimit ?? makeRateLimiter(options.rateLimitPerMinute ?? 0),
        rateLimited: options.rateLimit !== undefined || (options.rateLimitPerMinute ?? 0) > 0,
        ipAllowlist: options.allowlist ? parseIpAllowlist(options.allowlist) : undefined,
        loadShedder: shedder,
        lifecycle,
        webhookTracing: { recording: true, sampler: { exports: () => false } },
        logger: pino({ level: 'silent' }),
        trustProxy: options.trustProxy,
      },
      route,
    ),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}`;
  const finished: FinishedWebhook[] = [];
  const detach = getWebhookHub().attach((w) => void finished.push(w), () => undefined);
  return {
    state,
    port,
    lifecycle,
    routed,
    finished,
    send: (path: string, method = 'POST', headers: Record<string, string> = {}) =>
      fetch(`${base}${path}`, { method, headers: { ...(method === 'POST' ? { 'content-type': 'application/json' } : {}), ...headers }, ...(method === 'POST' ? { body: '{}' } : {}) }),
    close: async () => {
      detach();
      shedder.stop();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('refuseBeforeRouting: webhooks refused on their headers never reach the router', function () {
  this.timeout(30_000);

  it('while the service is behind, answers 503 WH_ERR_OVERLOADED with Retry-After and the security headers, and finishes the webhook, without routing it', async () => {
    const edge = await startEdge({ behindMs: 100 });
    try {
      const res = await edge.send('/api/webhooks/tradingview');
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('retry-after'), '5');
      assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
      for (const [name, value] of Object.entries(securityHeaders())) assert.equal(res.headers.get(name), value, name);
      const body = (await res.json()) as { error: { code: string; message: string }; webhookId: string };
      assert.equal(body.error.code, 'WH_ERR_OVERLOADED');
      assert.match(body.error.message, /behind for three turns/);
      assert.match(body.webhookId, /^[0-9a-f]{8}-[0-9a-f]{4}-7/);
      assert.deepEqual(edge.routed, []);
      const w = await waitFor(async () => edge.finished.find((f) => f.webhookId === body.webhookId), { what: 'finished webhook' });
      assert.equal(w.httpStatus, 503);
      assert.equal(w.status, 'failed');
      assert.equal(w.errorCode, 'WH_ERR_OVERLOADED');
      assert.equal(w.name, 'POST /api/webhooks/tradingview');
      assert.equal(w.attributes['client.address'], '127.0.0.1');
    } finally {
      await edge.close();
    }
  });

  it('routes, marked as admitted, the webhooks it admits; routes unmarked what is not a webhook POST, and everything while draining', async () => {
    const edge = await startEdge({ behindMs: 0 });
    try {
      assert.equal((await edge.send('/api/webhooks/tradingview')).status, 200);
      assert.equal((await edge.send('/api/webhooks/tradingview?token=abc')).status, 200);
      edge.state.behindMs = 100;
      // Not the webhook's POST: the router answers (a 405, a 404, the admin API), whatever the load.
      assert.equal((await edge.send('/api/webhooks/tradingview', 'GET')).status, 200);
      assert.equal((await edge.send('/api/webhooks/tradingviewx')).status, 200);
      assert.equal((await edge.send('/api/signals')).status, 200);
      assert.equal((await edge.send('/api/webhooks/tradingview?token=abc')).status, 503);
      edge.lifecycle.set('draining');
      assert.equal((await edge.send('/api/webhooks/tradingview')).status, 200);
      assert.deepEqual(edge.routed, [
        { url: '/api/webhooks/tradingview', method: 'POST', admitted: true },
        { url: '/api/webhooks/tradingview?token=abc', method: 'POST', admitted: true },
        { url: '/api/webhooks/tradingview', method: 'GET', admitted: false },
        { url: '/api/webhooks/tradingviewx', method: 'POST', admitted: false },
        { url: '/api/signals', method: 'POST', admitted: false },
        { url: '/api/webhooks/tradingview', method: 'POST', admitted: false },
      ]);
    } finally {
      await edge.close();
    }
  });

  it('checks in the route\'s order: the rate limit, then the allowlist, then the load', async () => {
    const edge = await startEdge({ behindMs: 100, rateLimitPerMinute: 1, allowlist: '192.0.2.0/24' });
    try {
      const first = await edge.send('/api/webhooks/tradingview');
      assert.equal(first.status, 403);
      assert.equal(((await first.json()) as { error: { code: string } }).error.code, 'WH_ERR_IP_FORBIDDEN');
      const second = await edge.send('/api/webhooks/tradingview');
      assert.equal(second.status, 429);
      assert.ok(Number(second.headers.get('retry-after')) >= 1);
      assert.deepEqual(edge.routed, []);
    } finally {
      await edge.close();
    }
  });

  it('a sender that hangs up while its rate limit is checked is finished as a client abort, not routed', async () => {
    let checked!: () => void;
    const checking = new Promise<void>((resolve) => (checked = resolve));
    // A limit that takes its time (as a shared store would): the sender is gone before it answers.
    const slowLimit: RateLimiter = async () => {
      checked();
      await new Promise((resolve) => setTimeout(resolve, 100));
    };
    const edge = await startEdge({ behindMs: 0, rateLimit: slowLimit });
    try {
      const socket = net.connect(edge.port, '127.0.0.1');
      socket.write('POST /api/webhooks/tradingview HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{');
      await checking;
      socket.destroy();
      const w = await waitFor(async () => edge.finished.find((f) => f.errorCode === 'WH_ERR_CLIENT_ABORTED'), { what: 'aborted webhook' });
      assert.equal(w.status, 'rejected');
      assert.deepEqual(edge.routed, []);
    } finally {
      await edge.close();
    }
  });
});

describe('refuseBeforeRouting when something in it fails', function () {
  this.timeout(30_000);

  it('a fault of ours while checking (the rate limit\'s store failing) is answered 500 with an error id to quote, as the route answers it', async () => {
    const failing: RateLimiter = async () => {
      throw new Error('rate limit store unreachable');
    };
    const edge = await startEdge({ behindMs: 0, rateLimit: failing });
    try {
      const res = await edge.send('/api/webhooks/tradingview');
      assert.equal(res.status, 500);
      const body = (await res.json()) as { error: { code: string; message: string; errorId?: string }; webhookId: string };
      assert.equal(body.error.code, 'WH_ERR_INTERNAL');
      assert.match(body.error.errorId ?? '', /^[0-9a-f-]{36}$/);
      assert.doesNotMatch(JSON.stringify(body), /unreachable/, 'the cause stays in the log');
      const w = await waitFor(async () => edge.finished.find((f) => f.webhookId === body.webhookId), { what: 'finished webhook' });
      assert.equal(w.status, 'failed');
      assert.deepEqual(edge.routed, []);
    } finally {
      await edge.close();
    }
  });

  it('answers 500 and goes on serving: a fault never escapes Node\'s request event to end the process', async () => {
    let broken = true;
    const edge = await startEdge({
      behindMs: 100,
      trustProxy: () => {
        if (broken) throw new Error('trust function failed');
        return false;
      },
    });
    try {
      // The trust function is asked only about a forwarded chain.
      const forwarded = { 'x-forwarded-for': '203.0.113.9' };
      const res = await edge.send('/api/webhooks/tradingview', 'POST', forwarded);
      assert.equal(res.status, 500);
      const answer = (await res.json()) as { error: { code: string; errorId?: string }; webhookId?: string };
      assert.equal(answer.error.code, 'WH_ERR_INTERNAL');
      // As every 500 WH_ERR_INTERNAL (README): an errorId to quote, logged with the cause, and the request's id.
      assert.match(answer.error.errorId ?? '', /^[0-9a-f-]{36}$/);
      assert.match(answer.webhookId ?? '', /^[0-9a-f-]{36}$/);
      broken = false;
      assert.equal((await edge.send('/api/webhooks/tradingview', 'POST', forwarded)).status, 503);
    } finally {
      await edge.close();
    }
  });
});

describe('refuseBeforeRouting in the service', function () {
  this.timeout(60_000);

  it('a webhook admitted before routing counts once against the rate limit', async () => {
    const svc = await startTestService({ RATE_LIMIT_PER_MINUTE: '3' });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i += 1) statuses.push((await svc.post(alert({ quantity: String(i + 1) }))).status);
      assert.deepEqual(statuses, [200, 200, 200, 429]);
    } finally {
      await svc.close();
    }
  });

  it('a refusal before routing is answered and recorded as the route refuses: the same headers, body, record, stages, spans and counters', async () => {
    const otlp = await startOtlpReceiver();
    const svc = await startTestService({ IP_ALLOWLIST: '192.0.2.0/24', OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint });
    try {
      const before = await scrape(svc.opsUrl);
      // POST is refused before routing; any other method goes through the route, whose onRequest refuses it the same way.
      const early = await fetch(`${svc.url}/api/webhooks/tradingview`, { method: 'POST', body: JSON.stringify(alert()), headers: { 'content-type': 'application/json', 'user-agent': 'probe/1' } });
      const routed = await fetch(`${svc.url}/api/webhooks/tradingview`, { method: 'DELETE', body: JSON.stringify(alert()), headers: { 'content-type': 'application/json', 'user-agent': 'probe/1' } });
      assert.equal(early.status, 403);
      assert.equal(routed.status, 403);
      const headersOf = (res: Response) => Object.fromEntries([...res.headers].filter(([name]) => name !== 'date' && name !== 'content-length'));
      assert.deepEqual(headersOf(early), headersOf(routed));
      const earlyBody = (await early.json()) as { error: unknown; webhookId: string };
      const routedBody = (await routed.json()) as { error: unknown; webhookId: string };
      assert.deepEqual(earlyBody.error, routedBody.error);

      const record = (id: string) => waitFor(async () => {
        const r = await svc.api(`/api/webhooks/${id}`);
        return r.status === 200 ? r.body : undefined;
      }, { what: `record of ${id}` });
      const [a, b] = [await record(earlyBody.webhookId), await record(routedBody.webhookId)];
      const comparable = (d: any) => {
        const { id, createdAt, processingTimeMs, traceId, payload, payloadSize, payloadSha256, truncation, ...rest } = d.webhook;
        return { ...rest, stages: d.stages.map((s: any) => ({ stage: s.stage, status: s.status })) };
      };
      assert.deepEqual(comparable(a), comparable(b));
      assert.equal(a.webhook.status, 'rejected');
      assert.equal(a.webhook.errorCode, 'WH_ERR_IP_FORBIDDEN');
      assert.equal(a.webhook.userAgent, 'probe/1');

      const spansOf = (id: string) => waitFor(async () => {
        const root = otlp.spans.find((s) => s.attributes['webhook.id'] === id && s.attributes['webhook.record'] === 'request');
        return root && { root, children: otlp.spans.filter((s) => s.traceId === root.traceId && s !== root) };
      }, { what: `trace of ${id}` });
      const [ta, tb] = [await spansOf(earlyBody.webhookId), await spansOf(routedBody.webhookId)];
      assert.deepEqual(Object.keys(ta.root.attributes).sort(), Object.keys(tb.root.attributes).sort());
      assert.deepEqual(ta.children.map((s) => s.name), tb.children.map((s) => s.name));

      const after = await scrape(svc.opsUrl);
      const counted = (text: string) => sampleValue(text, 'webhook_requests_total', { status: 'rejected', code: 'WH_ERR_IP_FORBIDDEN' });
      assert.equal(counted(after) - counted(before), 2);
    } finally {
      await svc.close();
      await otlp.close();
    }
  });
});
