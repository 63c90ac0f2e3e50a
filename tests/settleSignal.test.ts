import assert from 'node:assert/strict';
import { alert, startTestService, type TestService } from './support/startTestService.js';
import { startTargetServer } from './support/startTargetServer.js';
import { failRecordingForwards } from './support/failRecording.js';
import { findJob, lockAsDeadWorker, removeJob, waitForAttemptEnd } from './support/jobQueue.js';
import { waitFor } from './support/waitFor.js';

/** Ages the signal past HEALTH_QUEUE_MAX_AGE_SECONDS (60) instead of waiting for it. */
async function age(svc: TestService, signalId: string) {
  await svc.pool.query(`UPDATE signals SET updated_at = now() - interval '5 minutes' WHERE id = $1`, [signalId]);
}

const settle = (svc: TestService, signalId: string, query: string) => svc.api(`/api/signals/${signalId}/settle?${query}`, { method: 'POST' });

/**
 * A forward worker whose bridge takes every order (answering with `orderId`) and whose executions Postgres refuses
 * to record: each order goes out and is kept as unrecorded.
 */
async function startUnrecordable(orderId: string, maxAttempts: number) {
  const target = await startTargetServer([{ status: 200, body: JSON.stringify({ orderId }) }]);
  const svc = await startTestService({
    WORKER_ENABLED: 'true',
    EXECUTOR: 'forward',
    FORWARD_URL: target.url,
    FORWARD_TIMEOUT_MS: '300',
    EXECUTION_MAX_ATTEMPTS: String(maxAttempts),
    EXECUTION_RECORD_RETRY_MS: '0',
    WORKER_POLL_INTERVAL_MS: '100',
    HEALTH_QUEUE_MAX_AGE_SECONDS: '60',
  });
  await failRecordingForwards(svc.pool, 1_000);
  return { target, svc };
}

describe('POST /api/signals/:id/settle: a stuck signal settled by hand', () => {
  it('an order that went out but could not be recorded: settled as executed, once stuck, with the note kept; health recovers', async () => {
    const { target, svc } = await startUnrecordable('B-9', 1);
    try {
      const res = await svc.post(alert({ price: 120 }));
      const id = res.body.signalId as string;
      await waitFor(async () => (await findJob(svc.pool, id)) === undefined, { what: 'the only attempt to end' });
      assert.equal((await svc.api(`/api/signals/${id}`)).body.signal.status, 'executing');

      // Not stuck yet: a running attempt must never be cut in on.
      const early = await settle(svc, id, 'outcome=executed&note=B-9+is+at+the+bridge');
      assert.equal(early.status, 409);
      assert.equal(early.body.error.code, 'WH_ERR_CONFLICT');
      assert.match(early.body.error.message, /only a stuck signal can be settled by hand: queued or executing, unchanged for 60 s/);

      await age(svc, id);
      assert.equal((await svc.api('/api/monitoring/health')).body.checks.executions.stuck, 1);
      const noNote = await settle(svc, id, 'outcome=executed');
      assert.equal(noNote.status, 400);
      assert.match(noNote.body.error.message, /note: /);
      const badOutcome = await settle(svc, id, 'outcome=done&note=x');
      assert.equal(badOutcome.status, 400);
      assert.match(badOutcome.body.error.message, /outcome: must be executed \(the order is at the target\) or failed/);

      const done = await settle(svc, id, 'outcome=executed&note=B-9+is+at+the+bridge');
      assert.equal(done.status, 200, JSON.stringify(done.body));
      assert.deepEqual(
        { previousStatus: done.body.previousStatus, outcome: done.body.outcome, note: done.body.note },
        { previousStatus: 'executing', outcome: 'executed', note: 'B-9 is at the bridge' },
      );
      assert.match(done.body.previousError, /reconcile it with the target/);
      assert.equal(done.body.unrecordedOrder.response.body, '{"orderId":"B-9"}');
      const { body } = await svc.api(`/api/signals/${id}`);
      assert.equal(body.signal.status, 'executed');
      assert.equal(body.signal.lastError, null);
      assert.equal(body.signal.unrecordedOrder, null);
      assert.equal(body.executions.length, 1);
      assert.equal(body.executions[0].outcome, 'forwarded');
      const { unrecordedOrder, ...settledBy } = body.executions[0].response;
      assert.deepEqual(settledBy, { settledByHand: true, note: 'B-9 is at the bridge', clientAddress: '127.0.0.1' });
      assert.deepEqual([unrecordedOrder.outcome, unrecordedOrder.attempt, unrecordedOrder.response], ['forwarded', 1, { status: 200, body: '{"orderId":"B-9"}', truncated: false }]);
      assert.equal(target.calls.length, 1, 'nothing sent again');
      assert.equal((await svc.api('/api/monitoring/health')).body.checks.executions.stuck, 0);
      // Settled: a second settlement (or a retry) finds nothing to do.
      assert.equal((await settle(svc, id, 'outcome=failed&note=again')).status, 409);
      assert.equal((await svc.api(`/api/signals/${id}/retry`, { method: 'POST' })).status, 409);
    } finally {
      await svc.close();
      await target.close();
    }
  });

  it('never cuts in on an attempt still running or a retry still to come; a job held by a dead worker can be settled, keeping the order', async () => {
    const { target, svc } = await startUnrecordable('B-12', 3);
    try {
      const res = await svc.post(alert({ price: 123 }));
      const id = res.body.signalId as string;
      await waitForAttemptEnd(svc.pool, id, 1, 'the first attempt to end, its order kept for the next');
      await age(svc, id);
      // Its retry is still to come: not stuck, and not to be settled.
      assert.equal((await svc.api('/api/monitoring/health')).body.checks.executions.stuck, 0);
      const pending = await settle(svc, id, 'outcome=failed&note=x');
      assert.equal(pending.status, 409);
      assert.match(pending.body.error.message, /with no job waiting for its run or retry and none running/);
      // Held by a worker a minute ago: an attempt that may still be running (FORWARD_TIMEOUT_MS + EXECUTION_RECORD_RETRY_MS + statements).
      await lockAsDeadWorker(svc.pool, id, 1 / 60);
      await age(svc, id);
      assert.equal((await settle(svc, id, 'outcome=failed&note=x')).status, 409);
      // Held for an hour: that worker died (graphile-worker would free it after 4 hours).
      await lockAsDeadWorker(svc.pool, id, 1);
      assert.equal((await svc.api('/api/monitoring/health')).body.checks.executions.stuck, 1);
      const failed = await settle(svc, id, 'outcome=failed&note=no+order+B-12+at+the+bridge');
      assert.equal(failed.status, 200);
      const { body } = await svc.api(`/api/signals/${id}`);
      assert.equal(body.signal.status, 'failed');
      assert.equal(body.signal.unrecordedOrder, null, 'a retry sends the order again, as the operator decided');
      const row = body.executions.find((e: { outcome: string }) => e.outcome === 'failed');
      assert.equal(row.response.unrecordedOrder.response.body, '{"orderId":"B-12"}', 'the evidence stays with the failed row');
      assert.equal(row.response.note, 'no order B-12 at the bridge');
      assert.equal(target.calls.length, 1);
    } finally {
      await svc.close();
      await target.close();
    }
  });

  it('a queued signal whose job is gone: settled as failed (paper cannot be settled as executed), then retried', async () => {
    const svc = await startTestService({ HEALTH_QUEUE_MAX_AGE_SECONDS: '60' }); // no worker: the job waits
    try {
      const res = await svc.post(alert({ price: 121 }));
      const id = res.body.signalId as string;
      await age(svc, id);
      // Queued with its job waiting is not stuck: the queue check sees it.
      assert.equal((await settle(svc, id, 'outcome=failed&note=x')).status, 409);
      await removeJob(svc.pool, id);
      const paper = await settle(svc, id, 'outcome=executed&note=filled');
      assert.equal(paper.status, 400);
      assert.match(paper.body.error.message, /a paper fill is made by the paper book: settle it as failed, then retry it/);

      const failed = await settle(svc, id, 'outcome=failed&note=the+job+was+removed+by+mistake');
      assert.equal(failed.status, 200);
      const { body } = await svc.api(`/api/signals/${id}`);
      assert.equal(body.signal.status, 'failed');
      assert.equal(body.signal.lastError, 'settled by hand as failed (from 127.0.0.1): the job was removed by mistake');
      assert.equal(body.executions[0].outcome, 'failed');
      const retried = await svc.api(`/api/signals/${id}/retry`, { method: 'POST' });
      assert.equal(retried.status, 200);
      assert.equal(retried.body.result, 'queued');
      assert.ok(await findJob(svc.pool, id), 'a new job runs it');
    } finally {
      await svc.close();
    }
  });

  it('refuses a settled, unknown or malformed signal id', async () => {
    const svc = await startTestService();
    try {
      const res = await svc.post(alert({ price: 122 }));
      assert.equal((await settle(svc, 'not-a-uuid', 'outcome=failed&note=x')).status, 400);
      assert.equal((await settle(svc, '01890a5d-ac96-774b-bcce-b302099a8057', 'outcome=failed&note=x')).status, 404);
      assert.equal((await svc.api(`/api/signals/${res.body.signalId}/settle?outcome=failed&note=x`, { method: 'POST', token: null })).status, 401);
    } finally {
      await svc.close();
    }
  });
});
