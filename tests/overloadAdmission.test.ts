import http from 'node:http';
import assert from 'node:assert/strict';
import pg from 'pg';
import { makeLoadShedder, makeLoopDelayGauge, MIN_WINDOW_ANSWERS } from '../src/pipeline/makeLoadShedder.js';
import { WebhookError } from '../src/domain/errors.js';
import { sampleValue, scrape } from './support/metricsText.js';
import { alert, startTestService, type TestService } from './support/startTestService.js';
import { waitFor } from './support/waitFor.js';

describe('overload: excess webhooks get a quick 503 with Retry-After instead of a long wait', function () {
  this.timeout(60_000);

  describe('load shedder: the event loop\'s delay decides, measured by a timer\'s lateness', () => {
    it('refuses while the loop is behind for three turns running and busy, not after one long turn (a collection, a burst)', () => {
      let clock = 0;
      let active = 0; // the loop's busy time (ms): busy all along unless a test says otherwise
      const gauge = makeLoopDelayGauge(10, () => clock, () => ({ active, idle: clock - active }));
      const shedder = makeLoadShedder(100, { gauge, now: () => clock });
      const turn = (to: number, busy = true) => {
        if (busy) active += to - clock;
        clock = to;
      };
      turn(10);
      gauge.tick(); // on time
      shedder.admit();
      turn(300); // one long turn: the timer is 280 ms overdue, but the turns before were on time
      shedder.admit();
      gauge.tick(); // it runs 280 ms late
      turn(320);
      shedder.admit(); // the next turn is short: that was a lone long turn
      gauge.tick();
      turn(500); // a long turn (170 ms overdue) ...
      gauge.tick();
      turn(700); // ... another (190 ms) ...
      gauge.tick();
      turn(850); // ... and a third in progress (140 ms overdue): a standing queue
      assert.throws(() => shedder.admit(), (err: unknown) => {
        assert.ok(err instanceof WebhookError);
        assert.equal(err.code, 'WH_ERR_OVERLOADED');
        assert.equal(err.headers?.['Retry-After'], '5');
        assert.match(err.message, /140 ms behind for three turns/);
        return true;
      });
      gauge.tick();
      turn(855); // early in a turn after long ones: the requests read first are admitted
      shedder.admit();
      turn(865);
      gauge.tick(); // on time again
      shedder.admit();
    });

    it('refuses for 100 ms after the signal writer refused a signal past its bound, however idle the loop', () => {
      let clock = 1_000;
      let writerRefusedAt = -Infinity;
      const idle = { tick: () => undefined, sustainedDelayMs: () => 0, busyFraction: () => 0 };
      const shedder = makeLoadShedder(25, { gauge: idle, now: () => clock, writerRefusedAtMs: () => writerRefusedAt });
      shedder.admit();
      writerRefusedAt = clock;
      clock += 99;
      assert.throws(() => shedder.admit(), (err: unknown) => {
        assert.ok(err instanceof WebhookError);
        assert.equal(err.code, 'WH_ERR_OVERLOADED');
        assert.equal(err.headers?.['Retry-After'], '5');
        assert.match(err.message, /the database is behind/);
        return true;
      });
      clock += 2;
      shedder.admit();
    });

    it('does not refuse when the timers ran late but the loop was mostly idle (waiting for a core, not for work)', () => {
      let clock = 0;
      let active = 0;
      const gauge = makeLoopDelayGauge(10, () => clock, () => ({ active, idle: clock - active }));
      const shedder = makeLoadShedder(100, { gauge, now: () => clock });
      // Four turns each 200 ms late, of which the loop was busy 20 ms: the process was descheduled.
      for (let i = 1; i <= 4; i += 1) {
        clock = i * 210;
        active += 20;
        gauge.tick();
      }
      clock += 150;
      shedder.admit();
      // The same lateness with the loop busy throughout is refused.
      for (let i = 1; i <= 10; i += 1) {
        clock += 210;
        active += 210;
        gauge.tick();
      }
      clock += 150;
      assert.throws(() => shedder.admit(), /behind for three turns/);
    });

    it('0 turns it off', () => {
      let clock = 0;
      const gauge = makeLoopDelayGauge(10, () => clock);
      clock = 10_000;
      const shedder = makeLoadShedder(0, { gauge, now: () => clock });
      shedder.answered(60_000);
      clock = 20_000;
      shedder.admit();
    });

    it('refuses while every answer of the last 100 ms took longer than the bound (a standing queue), not after a burst', () => {
      let clock = 0;
      const gauge = makeLoopDelayGauge(10, () => clock);
      const tick = (to: number) => {
        while (clock < to) {
          clock += 10;
          gauge.tick();
        }
      };
      const shedder = makeLoadShedder(100, { gauge, now: () => clock });
      const answers = (ms: number[]) => ms.forEach((m) => shedder.answered(m));
      // A burst: many answers slow, one fast in the same window. Not a standing queue.
      answers([...Array<number>(MIN_WINDOW_ANSWERS).fill(400), 30]);
      tick(110);
      shedder.admit();
      // Every answer of this window slow: refused for the next window.
      answers(Array<number>(MIN_WINDOW_ANSWERS).fill(180));
      tick(220);
      assert.throws(() => shedder.admit(), /every answer in the last 100 ms took over 100 ms/);
      // Nothing admitted was answered in that window (all refused): the queue is gone, admit again.
      tick(330);
      shedder.admit();
      // A few slow answers at a low rate (a lock, a slow query) are no queue.
      answers(Array<number>(MIN_WINDOW_ANSWERS - 1).fill(2000));
      tick(440);
      shedder.admit();
    });
    it('judges only the window that just ended: slow answers before a quiet spell refuse nothing after it', () => {
      let clock = 0;
      const gauge = makeLoopDelayGauge(10, () => clock, () => ({ active: 0, idle: clock }));
      const shedder = makeLoadShedder(100, { gauge, now: () => clock });
      for (let i = 0; i < MIN_WINDOW_ANSWERS + 5; i += 1) shedder.answered(400);
      clock = 5 * 60_000; // five quiet minutes
      gauge.tick();
      shedder.admit();
    });
  });

  describe('answer times start when the body has been read: slow uploads are not the service\'s queue', () => {
    let svc: TestService;
    before(async () => {
      svc = await startTestService({ OVERLOAD_MAX_ANSWER_MS: '100' });
    });
    after(async () => {
      await svc?.close();
    });

    it('after a burst of webhooks whose senders took 300 ms to upload, the next webhook is admitted', async () => {
      const url = new URL(`${svc.url}/api/webhooks/tradingview`);
      const slowUpload = (i: number) =>
        new Promise<number>((resolve, reject) => {
          const body = JSON.stringify(alert({ ticker: `BINANCE:U${i}USDT` }));
          const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('error', reject);
          req.write(body.slice(0, 10));
          setTimeout(() => req.end(body.slice(10)), 300);
        });
      const statuses = await Promise.all(Array.from({ length: MIN_WINDOW_ANSWERS + 10 }, (_, i) => slowUpload(i)));
      assert.deepEqual(new Set(statuses), new Set([200]));
      // Their window is judged when the next one begins (100 ms on): that is when a slow upload counted as a slow
      // answer made the service refuse everyone.
      await new Promise((r) => setTimeout(r, 130));
      const next = await svc.post(alert({ ticker: 'BINANCE:NEXTUSDT' }));
      assert.equal(next.status, 200, JSON.stringify(next.body));
    });
  });

  describe('the signal writer\'s queue, bounded in time (SIGNAL_MAX_QUEUE_DELAY_MS)', () => {
    let svc: TestService;
    before(async () => {
      // Two batches in flight (SIGNAL_BATCHES_IN_FLIGHT, 1 by default): two writes hold them, a third queues.
      svc = await startTestService({ SIGNAL_MAX_QUEUE_DELAY_MS: '20', DB_TIMEOUT_MS: '5000', SIGNAL_BATCHES_IN_FLIGHT: '2' });
    });
    after(async () => {
      await svc.close();
    });

    it('while the database is stuck, a webhook behind an overdue queue is answered 503 at once, recorded and counted; the others are stored', async () => {
      const before = await scrape(svc.opsUrl);
      const locker = new pg.Client({ connectionString: svc.db.url });
      await locker.connect();
      try {
        await locker.query('BEGIN');
        // SHARE mode blocks inserts, not reads (/metrics reads the signals table).
        await locker.query('LOCK TABLE signals IN SHARE MODE');
        // Two writes take the writer's two batch slots and wait for the lock; the third waits for a slot.
        const stuck = [svc.post(alert({ price: 101 })), svc.post(alert({ price: 102 }))];
        await waitFor(async () => (sampleValue(await scrape(svc.opsUrl), 'webhook_requests_in_flight', {}) === 2 ? true : undefined), { what: 'two webhooks waiting' });
        const queued = svc.post(alert({ price: 103 }));
        await waitFor(async () => (sampleValue(await scrape(svc.opsUrl), 'webhook_requests_in_flight', {}) === 3 ? true : undefined), { what: 'a third waiting' });
        await new Promise((r) => setTimeout(r, 60)); // the queue's oldest signal is now past the 20 ms bound
        const late = await svc.post(alert({ price: 104 }));
        assert.equal(late.status, 503, 'answered while the lock is still held');
        assert.equal(late.body.error.code, 'WH_ERR_OVERLOADED');
        assert.equal(late.headers.get('retry-after'), '5');
        const overdue = await queued;
        assert.equal(overdue.status, 503, 'the signal that waited past the bound is refused, not written');
        // The writer has just refused: for 100 ms the next webhook is refused at the edge, its body never read.
        const atEdge = await svc.post(alert({ price: 105 }));
        assert.equal(atEdge.status, 503);
        assert.match(atEdge.body.error.message, /the database is behind/);
        await locker.query('ROLLBACK');
        const stored = await Promise.all(stuck);
        assert.deepEqual(stored.map((r) => r.body.status), ['accepted', 'accepted']);
        const prices = (await svc.pool.query('SELECT price::int AS p FROM signals WHERE price BETWEEN 101 AND 104 ORDER BY p')).rows.map((r) => r.p);
        assert.deepEqual(prices, [101, 102], 'every 200 is stored, no 503 is');
        const record = await waitFor(async () => {
          const r = await svc.api(`/api/webhooks/${late.body.webhookId}`);
          return r.status === 200 ? r.body : undefined;
        }, { what: 'the record of the refused webhook' });
        assert.equal(record.webhook.status, 'failed');
        assert.equal(record.webhook.httpStatus, 503);
        assert.equal(record.webhook.errorCode, 'WH_ERR_OVERLOADED');
        const edgeRecord = await waitFor(async () => {
          const r = await svc.api(`/api/webhooks/${atEdge.body.webhookId}`);
          return r.status === 200 ? r.body : undefined;
        }, { what: 'the record of the webhook refused at the edge' });
        assert.equal(edgeRecord.webhook.payload, null, 'refused before its body was read');
        const after = await scrape(svc.opsUrl);
        const refused = (t: string) => sampleValue(t, 'webhook_requests_total', { status: 'failed', code: 'WH_ERR_OVERLOADED' });
        assert.equal(refused(after) - refused(before), 3);
      } finally {
        await locker.end();
      }
    });
  });
});
