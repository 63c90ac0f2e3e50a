import assert from 'node:assert/strict';
import net from 'node:net';
import { sampleValue, scrape } from './support/metricsText.js';
import { alert, startTestService, TEST_ADMIN_TOKEN, TEST_SECRET, type TestService } from './support/startTestService.js';
import { waitFor } from './support/waitFor.js';

interface Sse {
  events: Array<{ event: string; data: any }>;
  text: () => string;
  ended: Promise<void>;
  close: () => void;
}

/** Opens the live stream over real HTTP and parses its events as they arrive. */
async function openStream(svc: TestService): Promise<Sse> {
  const controller = new AbortController();
  const res = await fetch(`${svc.url}/api/monitoring/stream`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }, signal: controller.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const events: Sse['events'] = [];
  let all = '';
  let buffer = '';
  const decoder = new TextDecoder();
  const ended = (async () => {
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const text = decoder.decode(chunk, { stream: true });
        all += text;
        buffer += text;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) });
        }
      }
    } catch {
      // Aborted by close().
    }
  })();
  return { events, text: () => all, ended, close: () => controller.abort() };
}

describe('live stream: GET /api/monitoring/stream pushes each webhook as it happens', function () {
  this.timeout(30_000);
  let svc: TestService;

  before(async () => {
    svc = await startTestService({ STREAM_MAX_CONNECTIONS: '2' });
  });
  after(async () => svc?.close());

  it('refuses a request without the admin token', async () => {
    const r = await svc.api('/api/monitoring/stream', { token: null });
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'WH_ERR_UNAUTHORIZED');
  });

  it('sends an accepted and a rejected webhook as events, redacted like the records and without the payload', async () => {
    const sse = await openStream(svc);
    try {
      const accepted = await svc.post(alert({ price: '123' }));
      const rejected = await svc.post(alert({ secret: `${TEST_SECRET}-wrong` }));
      await waitFor(async () => sse.events.filter((e) => e.event === 'webhook').length >= 2, { what: 'two webhook events' });
      const [a, b] = sse.events.filter((e) => e.event === 'webhook').map((e) => e.data);
      assert.equal(a.id, accepted.body.webhookId);
      assert.equal(a.status, 'success');
      assert.equal(a.outcome, 'accepted');
      assert.equal(a.ticker, 'BTCUSDT');
      assert.equal(a.signal_id, accepted.body.signalId);
      assert.match(a.trace_id, /^[0-9a-f]{32}$/);
      assert.equal(b.id, rejected.body.webhookId);
      assert.equal(b.status, 'rejected');
      assert.equal(b.error_code, 'WH_ERR_AUTH_INVALID');
      for (const e of [a, b]) {
        assert.equal(e.payload, undefined);
        assert.equal(e.headers, undefined);
        // Which payload it was: the same digest as the record's detail gives (stored whole, the payload has no stored digest).
        const detail = await waitFor(async () => (await svc.api(`/api/webhooks/${e.id}`)).body?.webhook, { what: `the record of ${e.id}` });
        assert.equal(e.payload_sha256, detail.payloadSha256);
        assert.match(e.payload_sha256, /^[0-9a-f]{64}$/);
      }
      assert.ok(!sse.text().includes(TEST_SECRET), 'no secret, right or wrong, in the stream');
    } finally {
      sse.close();
      await sse.ended;
    }
  });

  it('allows STREAM_MAX_CONNECTIONS streams at once and counts them; one more gets 429', async () => {
    const first = await openStream(svc);
    const second = await openStream(svc);
    try {
      const third = await svc.api('/api/monitoring/stream');
      assert.equal(third.status, 429);
      assert.match(third.body.error.message, /STREAM_MAX_CONNECTIONS/);
      assert.equal(sampleValue(await scrape(svc.opsUrl), 'monitoring_stream_connections'), 2);
    } finally {
      first.close();
      second.close();
      await Promise.all([first.ended, second.ended]);
    }
    await waitFor(async () => sampleValue(await scrape(svc.opsUrl), 'monitoring_stream_connections') === 0, { what: 'closed streams released' });
    const again = await openStream(svc);
    again.close();
    await again.ended;
  });

  it('a client that stops reading loses the oldest events past STREAM_QUEUE_MAX_EVENTS, is told how many, and they are counted', async () => {
    const own = await startTestService({ STREAM_QUEUE_MAX_EVENTS: '5' }, { db: svc.db });
    const socket = net.connect(Number(new URL(own.url).port), '127.0.0.1');
    try {
      let received = '';
      socket.setEncoding('utf8');
      socket.on('data', (text: string) => (received += text));
      socket.write(`GET /api/monitoring/stream HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${TEST_ADMIN_TOKEN}\r\n\r\n`);
      await waitFor(async () => received.includes('connected'), { what: 'stream opened' });
      // The client stops reading: the kernel's buffers fill, then the service's queue for this client.
      socket.pause();
      const droppedCount = async () => sampleValue(await scrape(own.opsUrl), 'monitoring_stream_dropped_events_total');
      let sent = 0;
      // Until an event is dropped when the newest one arrives: the queue was full then, so which end loses shows.
      let last: Awaited<ReturnType<typeof own.post>>;
      for (;;) {
        assert.ok(sent < 30_000, `no event dropped after ${sent} webhooks`);
        await Promise.all(Array.from({ length: 100 }, () => own.post(alert({ secret: 'x'.repeat(600) }))));
        const before = await droppedCount();
        last = await own.post(alert({ price: '7' }));
        sent += 101;
        if ((await droppedCount()) > before) break;
      }
      const dropped = await droppedCount();
      socket.resume();
      const count = (text: string) => (text.match(/^event: webhook$/gm) ?? []).length;
      await waitFor(async () => received.includes(last.body.webhookId), { what: 'the newest event, kept' });
      const notices = [...received.matchAll(/^event: dropped\ndata: (.*)$/gm)].map((m) => JSON.parse(m[1]!).dropped as number);
      assert.ok(notices.length >= 1, 'the client is told it missed events');
      assert.equal(notices.reduce((a, b) => a + b, 0), dropped, 'the notices add up to the counter');
      assert.equal(count(received) + dropped, sent, 'every webhook is either sent to the client or counted as dropped');
      // Oldest first out: the newest webhook, sent while the queue was full, is delivered after the last notice.
      const afterNotice = received.slice(received.lastIndexOf('event: dropped'));
      assert.ok(afterNotice.includes(last.body.webhookId));
    } finally {
      socket.destroy();
      await own.close();
    }
  });

  it('stays open through a quiet spell longer than REQUEST_TIMEOUT_MS, the listener\'s idle bound for connections', async () => {
    // The idle bound at its least (1 s): a quiet spell is a real one here, a wait on the socket's own timer.
    const own = await startTestService({ REQUEST_TIMEOUT_MS: '1000', HEADERS_TIMEOUT_MS: '1000' }, { db: svc.db });
    const sse = await openStream(own);
    try {
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      const sent = await own.post(alert({ price: '321' }));
      await waitFor(async () => sse.events.some((e) => e.event === 'webhook' && e.data.id === sent.body.webhookId), {
        what: 'the webhook sent after the quiet spell, on the same stream',
        timeoutMs: 5_000,
      });
    } finally {
      sse.close();
      await sse.ended;
      await own.close();
    }
  });

  it('ends open streams when the service shuts down, so that shutdown is not held open', async () => {
    const own = await startTestService({}, { db: svc.db });
    const res = await fetch(`${own.url}/api/monitoring/stream`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    assert.equal(res.status, 200);
    const reading = res.text();
    const started = Date.now();
    await own.stop();
    assert.ok(Date.now() - started < 3_000, `stopped in ${Date.now() - started} ms with a stream open`);
    assert.match(await reading, /connected/);
  });
});
