import assert from 'node:assert/strict';
import { parseConfig } from '../src/config/parseConfig.js';
import { Webhook } from 'standardwebhooks';
import { alert, startTestService, type TestService } from './support/startTestService.js';
import { startTargetServer, type Reply } from './support/startTargetServer.js';
import { waitFor } from './support/waitFor.js';
import { findJob, rescheduleJob, waitForAttemptEnd } from './support/jobQueue.js';
import { sampleValue, scrape } from './support/metricsText.js';
import { trace } from '@opentelemetry/api';
import { quietLogger } from './support/testDatabase.js';
import { executeSignal } from '../src/execution/executeSignal.js';
import { makeForwardExecutor } from '../src/execution/forwardExecutor.js';
import { failRecordingForwards } from './support/failRecording.js';

const SIGNING = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describe('forward executor', () => {
  async function setup(replies: Reply[], env: Record<string, string> = {}) {
    const target = await startTargetServer(replies);
    const svc = await startTestService({
      WORKER_ENABLED: 'true',
      EXECUTOR: 'forward',
      FORWARD_URL: target.url,
      FORWARD_TIMEOUT_MS: '300',
      FORWARD_SIGNING_SECRET: SIGNING,
      WORKER_POLL_INTERVAL_MS: '100',
      ...env,
    });
    return { target, svc, close: async () => (await svc.close(), await target.close()) };
  }

  async function settle(svc: TestService, signalId: string) {
    return waitFor(async () => {
      const r = await svc.api(`/api/signals/${signalId}`);
      return ['executed', 'failed'].includes(r.body.signal.status) ? r.body : undefined;
    }, { what: 'signal to settle' });
  }

  /** Moves the retry time of the signal's job to now, instead of waiting out the backoff. */
  async function retryNow(svc: TestService, signalId: string, attempt: number) {
    await waitForAttemptEnd(svc.pool, signalId, attempt, `attempt ${attempt} to end`);
    await rescheduleJob(svc.pool, signalId);
  }

  it('POSTs the normalised signal with Idempotency-Key and a verifiable signature; 2xx = executed', async () => {
    const { target, svc, close } = await setup([{ status: 201, body: '{"orderId":"B-1"}' }]);
    try {
      const res = await svc.post(alert({ price: 101, quantity: 3 }));
      const settled = await settle(svc, res.body.signalId);
      assert.equal(settled.signal.status, 'executed');
      assert.equal(settled.signal.attempts, 1);
      assert.equal(settled.executions[0].outcome, 'forwarded');
      assert.deepEqual(settled.executions[0].response, { status: 201, body: '{"orderId":"B-1"}', truncated: false });
      const call = target.calls[0]!;
      assert.equal(call.headers['idempotency-key'], res.body.signalId);
      const sent = JSON.parse(call.body);
      assert.deepEqual([sent.signalId, sent.ticker, sent.exchange, sent.action, sent.quantity, sent.price], [res.body.signalId, 'BTCUSDT', 'BINANCE', 'buy', 3, 101]);
      assert.doesNotThrow(() => new Webhook(SIGNING).verify(call.body, call.headers as Record<string, string>));
    } finally {
      await close();
    }
  });

  it('retries after a 503, then succeeds (backoff skipped by moving the job time)', async () => {
    const { target, svc, close } = await setup([{ status: 503 }, { status: 200 }]);
    try {
      const res = await svc.post(alert({ price: 102 }));
      await retryNow(svc, res.body.signalId, 1);
      const queued = await svc.api(`/api/signals/${res.body.signalId}`);
      assert.match(queued.body.signal.lastError ?? '', /answered 503/);
      const settled = await settle(svc, res.body.signalId);
      assert.equal(settled.signal.status, 'executed');
      assert.equal(settled.signal.attempts, 2);
      assert.equal(settled.signal.lastError, null);
      assert.equal(target.calls.length, 2);
      assert.equal(target.calls[1]!.headers['idempotency-key'], res.body.signalId);
    } finally {
      await close();
    }
  });

  it('retries a 409 (a bridge still processing the same Idempotency-Key), and the retry gets the answer', async () => {
    const { target, svc, close } = await setup([{ status: 409, body: '{"error":"request in progress"}' }, { status: 200 }]);
    try {
      const res = await svc.post(alert({ price: 108 }));
      await retryNow(svc, res.body.signalId, 1);
      const settled = await settle(svc, res.body.signalId);
      assert.equal(settled.signal.status, 'executed');
      assert.deepEqual(target.calls.map((c) => c.headers['idempotency-key']), [res.body.signalId, res.body.signalId]);
    } finally {
      await close();
    }
  });

  it('fails at once on a 400 (retrying cannot help)', async () => {
    const { target, svc, close } = await setup([{ status: 400, body: '{"error":"unknown symbol"}' }]);
    try {
      const res = await svc.post(alert({ price: 103 }));
      const settled = await settle(svc, res.body.signalId);
      assert.equal(settled.signal.status, 'failed');
      assert.equal(settled.signal.attempts, 1);
      assert.match(settled.signal.lastError, /answered 400: \{"error":"unknown symbol"\}/);
      assert.equal(settled.executions[0].outcome, 'failed');
      assert.equal(target.calls.length, 1);
    } finally {
      await close();
    }
  });

  it('treats a timeout as transient and fails the signal when the attempts run out', async () => {
    const { svc, close } = await setup(['hang'], { EXECUTION_MAX_ATTEMPTS: '2' });
    try {
      const res = await svc.post(alert({ price: 104 }));
      await retryNow(svc, res.body.signalId, 1);
      const settled = await settle(svc, res.body.signalId);
      assert.equal(settled.signal.status, 'failed');
      assert.equal(settled.signal.attempts, 2);
      assert.match(settled.signal.lastError, /did not answer within FORWARD_TIMEOUT_MS \(300 ms\)/);
    } finally {
      await close();
    }
  });

  it('counts a 2xx whose body arrives after FORWARD_TIMEOUT_MS as forwarded, and sends the order once', async () => {
    // The bridge took the order (200) but finishes its answer slowly: retrying would place it a second time.
    const { target, svc, close } = await setup([{ status: 200, body: '{"orderId":"b-1"}', bodyDelayMs: 1_000 }]);
    try {
      const res = await svc.post(alert({ price: 106 }));
      const settled = await settle(svc, res.body.signalId);
      assert.equal(settled.signal.status, 'executed');
      assert.equal(settled.signal.attempts, 1);
      assert.equal(target.calls.length, 1);
      assert.equal(settled.executions[0].outcome, 'forwarded');
    } finally {
      await close();
    }
  });

  it('does not follow a redirect (fetch would send the order again as a GET): the signal fails at once, naming it', async () => {
    const { target, svc, close } = await setup([{ status: 301, headers: { location: '/elsewhere' } }, { status: 200 }]);
    try {
      const res = await svc.post(alert({ price: 107 }));
      const settled = await settle(svc, res.body.signalId);
      assert.equal(settled.signal.status, 'failed');
      assert.equal(settled.signal.attempts, 1);
      assert.match(settled.signal.lastError, /answered 301 \(a redirect to \/elsewhere\).*FORWARD_URL/);
      assert.deepEqual(target.calls.map((c) => c.url), ['/orders']);
    } finally {
      await close();
    }
  });

  it('refuses a FORWARD_URL with a user name or password at start-up, without echoing it', () => {
    assert.throws(
      () => parseConfig({ EXECUTOR: 'forward', FORWARD_URL: 'https://trader:hunter2-secret@bridge.example/orders' }),
      (err: Error) => /FORWARD_URL.*user name or password/.test(err.message) && !err.message.includes('hunter2-secret'),
    );
    assert.equal(parseConfig({ EXECUTOR: 'forward', FORWARD_URL: 'https://bridge.example/orders?token=abc' }).execution.forwardUrl, 'https://bridge.example/orders?token=abc');
  });

  it('refuses a FORWARD_TIMEOUT_MS that a shutdown would cut off (the job would stay locked for 4 hours)', () => {
    const forward = { EXECUTOR: 'forward', FORWARD_URL: 'https://bridge.example/orders' };
    assert.throws(() => parseConfig({ ...forward, FORWARD_TIMEOUT_MS: '10000', SHUTDOWN_TIMEOUT_MS: '10000' }), /FORWARD_TIMEOUT_MS=10000: must be shorter than SHUTDOWN_TIMEOUT_MS \(10000\)/);
    assert.equal(parseConfig({ ...forward, FORWARD_TIMEOUT_MS: '5000' }).execution.forwardTimeoutMs, 5000);
  });

  it('keeps a symbol\'s order across a retry: a signal after one that waits for its retry is sent after that retry', async () => {
    const { target, svc, close } = await setup([{ status: 503 }, { status: 200 }]);
    try {
      const buy = await svc.post(alert({ price: 110, action: 'buy' }));
      await waitForAttemptEnd(svc.pool, buy.body.signalId, 1, 'the buy to wait for its retry');
      // The queue of the symbol is free while the buy waits: its close must still not go first.
      const close1 = await svc.post(alert({ price: 111, action: 'close' }));
      await waitFor(async () => {
        const [b, c] = [await findJob(svc.pool, buy.body.signalId), await findJob(svc.pool, close1.body.signalId)];
        return b && c && c.attempts === 0 && c.lockedAt === null && c.runAt.getTime() >= b.runAt.getTime();
      }, { what: 'the close to be put back behind the buy\'s retry' });
      assert.equal(target.calls.length, 1, 'nothing sent for the close yet');
      await rescheduleJob(svc.pool, buy.body.signalId);
      assert.equal((await settle(svc, buy.body.signalId)).signal.status, 'executed');
      await rescheduleJob(svc.pool, close1.body.signalId);
      assert.equal((await settle(svc, close1.body.signalId)).signal.attempts, 1, 'being put back spent none of its attempts');
      assert.deepEqual(target.calls.map((c) => c.headers['idempotency-key']), [buy.body.signalId, buy.body.signalId, close1.body.signalId]);
    } finally {
      await close();
    }
  });

  it('keeps at most 4 KiB of the answer', async () => {
    const { svc, close } = await setup([{ status: 200, body: 'x'.repeat(10_000) }]);
    try {
      const res = await svc.post(alert({ price: 105 }));
      const settled = await settle(svc, res.body.signalId);
      assert.equal(settled.executions[0].response.truncated, true);
      assert.equal(settled.executions[0].response.body.length, 4096);
    } finally {
      await close();
    }
  });

  it('stores a bridge answer that carries a NUL character, and sends the order once (jsonb refused it: the order went again)', async () => {
    const { target, svc, close } = await setup([{ status: 200, body: 'accepted\u0000B-7' }]);
    try {
      const res = await svc.post(alert({ price: 112 }));
      const settled = await settle(svc, res.body.signalId);
      assert.equal(settled.signal.status, 'executed');
      assert.equal(settled.executions[0].response.body, 'accepted\uFFFDB-7');
      assert.equal(target.calls.length, 1);
    } finally {
      await close();
    }
  });

  it('fails a 400 whose answer carries a NUL character at once, sending the order once', async () => {
    const { target, svc, close } = await setup([{ status: 400, body: 'bad\u0000symbol' }]);
    try {
      const res = await svc.post(alert({ price: 113 }));
      const settled = await settle(svc, res.body.signalId);
      assert.equal(settled.signal.status, 'failed');
      assert.match(settled.signal.lastError, /answered 400: bad\uFFFDsymbol/);
      assert.equal(target.calls.length, 1);
    } finally {
      await close();
    }
  });

  it('records an order whose recording failed once within the same attempt, without sending it again', async () => {
    const { target, svc, close } = await setup([{ status: 200, body: '{"orderId":"B-8"}' }]);
    try {
      await failRecordingForwards(svc.pool, 1);
      const res = await svc.post(alert({ price: 114 }));
      const settled = await settle(svc, res.body.signalId);
      assert.equal(settled.signal.status, 'executed');
      assert.equal(settled.signal.attempts, 1);
      assert.deepEqual(settled.executions[0].response, { status: 200, body: '{"orderId":"B-8"}', truncated: false });
      assert.equal(target.calls.length, 1, 'the order was sent once');
    } finally {
      await close();
    }
  });

  it('keeps an order it could not record with its signal: the next attempt, on another worker, records it without sending it again', async () => {
    const { target, svc, close } = await setup([{ status: 200, body: '{"orderId":"B-10"}' }], { EXECUTION_RECORD_RETRY_MS: '0' });
    try {
      await failRecordingForwards(svc.pool, 1);
      const res = await svc.post(alert({ price: 116 }));
      const id = res.body.signalId as string;
      await waitForAttemptEnd(svc.pool, id, 1, 'the first attempt to end');
      const { body } = await svc.api(`/api/signals/${id}`);
      assert.equal(body.signal.status, 'executing', 'its order is out: nothing of its symbol waits behind it');
      assert.deepEqual([body.signal.unrecordedOrder.attempt, body.signal.unrecordedOrder.response.body], [1, '{"orderId":"B-10"}']);
      assert.match(body.signal.lastError, /the order was forwarded \(attempt 1\), but recording it failed: simulated failure.*recorded at the next attempt, not sent again/);
      // The next attempt on another worker process, with its own executor.
      const other = {
        pool: svc.pool,
        executor: makeForwardExecutor({ url: target.url, timeoutMs: 300 }),
        logger: quietLogger,
        tracer: trace.getTracer('test'),
        recordRetryMs: 0,
        stopping: () => false,
      };
      assert.equal(await executeSignal(other, { signalId: id, attempt: 2, maxAttempts: 5 }), 'executed');
      const after = (await svc.api(`/api/signals/${id}`)).body;
      assert.equal(after.signal.status, 'executed');
      assert.equal(after.signal.unrecordedOrder, null);
      assert.equal(after.executions[0].attempt, 1, 'recorded as the attempt that sent it');
      assert.deepEqual(after.executions[0].response, { status: 200, body: '{"orderId":"B-10"}', truncated: false });
      assert.equal(target.calls.length, 1, 'the order was sent once');
    } finally {
      await close();
    }
  });

  it('never fails, nor sends again, an order whose recording fails at every attempt: it stays executing, saying why', async () => {
    const { target, svc, close } = await setup([{ status: 200 }], { EXECUTION_MAX_ATTEMPTS: '2', EXECUTION_RECORD_RETRY_MS: '200' });
    try {
      await failRecordingForwards(svc.pool, 1_000);
      const res = await svc.post(alert({ price: 115 }));
      await retryNow(svc, res.body.signalId, 1);
      await waitFor(async () => (await findJob(svc.pool, res.body.signalId)) === undefined, { what: 'the last attempt to end' });
      const { body } = await svc.api(`/api/signals/${res.body.signalId}`);
      assert.equal(body.signal.status, 'executing', 'not failed: the order went through');
      assert.match(body.signal.lastError, /was forwarded \(attempt 1\), but recording it failed at the last attempt \(2 of 2\): .*: not sent again; reconcile it with the target/);
      assert.equal(target.calls.length, 1);
      const text = await scrape(svc.opsUrl);
      assert.equal(sampleValue(text, 'signal_executions_total', { executor: 'forward', outcome: 'unrecorded' }), 1, 'only the last attempt, which needs a person');
      assert.equal(sampleValue(text, 'signal_executions_total', { executor: 'forward', outcome: 'retry' }), 1);
      assert.equal(sampleValue(text, 'signal_executions_total', { executor: 'forward', outcome: 'failed' }), 0);
    } finally {
      await close();
    }
  });

  it('a 5xx whose answer is cut mid-emoji still fails the attempt cleanly (a lone surrogate stopped the worker)', async () => {
    const { target, svc, close } = await setup([{ status: 503, body: `${'x'.repeat(199)}😀 later` }, { status: 200 }]);
    try {
      const res = await svc.post(alert({ price: 117 }));
      await retryNow(svc, res.body.signalId, 1);
      const queued = await svc.api(`/api/signals/${res.body.signalId}`);
      assert.match(queued.body.signal.lastError, /answered 503: x{199}\uFFFD$/);
      assert.equal((await settle(svc, res.body.signalId)).signal.status, 'executed');
      assert.equal(target.calls.length, 2);
    } finally {
      await close();
    }
  });
});
