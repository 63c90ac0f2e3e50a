import assert from 'node:assert/strict';
import { alert, startTestService, type TestService } from './support/startTestService.js';
import { startTargetServer, type Reply } from './support/startTargetServer.js';
import { removeJob } from './support/jobQueue.js';
import { sampleValue, scrape } from './support/metricsText.js';
import { waitFor } from './support/waitFor.js';

/**
 * A signal answered 200 `accepted` whose execution fails later (a broker answering 5xx until the attempts run
 * out, or 4xx) shows in every monitoring answer, and an operator can run it again once the broker is back.
 */
describe('failed executions in monitoring, and their retry', function () {
  this.timeout(60_000);

  let svc: TestService;
  let target: Awaited<ReturnType<typeof startTargetServer>>;
  const replies: Reply[] = [{ status: 503, body: '{"error":"broker down"}' }];
  const since = new Date(Date.now() - 1000).toISOString();
  const signalIds: string[] = [];
  const webhookIds: string[] = [];

  before(async () => {
    target = await startTargetServer(replies);
    svc = await startTestService({
      WORKER_ENABLED: 'true',
      EXECUTOR: 'forward',
      FORWARD_URL: target.url,
      FORWARD_TIMEOUT_MS: '1000',
      WORKER_POLL_INTERVAL_MS: '100',
      EXECUTION_MAX_ATTEMPTS: '1', // the outage uses up the attempts at once (backoff is tested in forwardExecutor)
      MAX_ALERT_AGE_SECONDS: '3600',
    });
  });
  after(async () => {
    await svc.close();
    await target.close();
  });

  const signal = async (id: string) => (await svc.api(`/api/signals/${id}`)).body;
  const settled = (id: string, statuses = ['executed', 'failed', 'declined']) =>
    waitFor(async () => {
      const s = await signal(id);
      return statuses.includes(s.signal.status) ? s : undefined;
    }, { what: `signal ${id} to settle` });
  const callsFor = (id: string) => target.calls.filter((c) => c.headers['idempotency-key'] === id).length;

  it('a signal that fails after its 200 shows in /api/webhooks, the detail, realtime, health and performance', async () => {
    for (const [ticker, price] of [['NASDAQ:AAPL', 190], ['NASDAQ:MSFT', 410], ['NYSE:IBM', 150]] as const) {
      const res = await svc.post(alert({ ticker, price }));
      assert.equal(res.status, 200);
      assert.equal(res.body.status, 'accepted');
      signalIds.push(res.body.signalId);
      webhookIds.push(res.body.webhookId);
    }
    for (const id of signalIds) assert.equal((await settled(id)).signal.status, 'failed');

    // The webhooks were accepted; their trades failed. Both are visible, and filterable by either.
    const listed = await waitFor(async () => {
      const r = await svc.api('/api/webhooks?status=accepted&execution=failed');
      return r.body.webhooks.length === 3 ? r.body.webhooks : undefined;
    }, { what: 'the records of the three webhooks' });
    assert.deepEqual(listed.map((w: any) => w.id).sort(), [...webhookIds].sort());
    for (const w of listed) {
      assert.equal(w.status, 'success');
      assert.equal(w.outcome, 'accepted');
      assert.equal(w.execution.status, 'failed');
      assert.match(w.execution.error, /forward target answered 503/);
      assert.equal(typeof w.processingTimeMs, 'number');
    }
    assert.equal((await svc.api('/api/webhooks?execution=executed')).body.webhooks.length, 0);

    const detail = (await svc.api(`/api/webhooks/${webhookIds[0]}`)).body;
    assert.equal(detail.webhook.outcome, 'accepted');
    assert.deepEqual(detail.stages.map((s: any) => s.stage), ['received', 'enriching', 'deciding', 'executing', 'completed']);
    assert.equal(detail.execution.status, 'failed');
    assert.equal(detail.execution.outcome, 'failed');
    assert.match(detail.execution.error, /answered 503: \{"error":"broker down"\}/);

    const realtime = (await svc.api('/api/monitoring/realtime')).body;
    const executionErrors = realtime.latestErrors.filter((e: any) => e.source === 'execution');
    assert.deepEqual(executionErrors.map((e: any) => e.signalId).sort(), [...signalIds].sort());
    assert.match(executionErrors[0].message, /answered 503/);
    assert.equal(realtime.executions.byOutcome.failed, 3);
    assert.equal(realtime.errorRate, 0); // the webhooks themselves were fine

    const health = await svc.api('/api/monitoring/health');
    assert.equal(health.status, 200);
    assert.equal(health.body.status, 'degraded');
    assert.equal(health.body.checks.executions.status, 'degraded');
    assert.equal(health.body.checks.executions.failedRecently, 3);
    assert.match(health.body.checks.executions.detail, /3 signal\(s\) failed to execute .*answered 503/);

    const performance = (await svc.api('/api/monitoring/performance?window=last_hour')).body;
    const executions = performance.executions;
    assert.deepEqual(executions.byOutcome, { filled: 0, forwarded: 0, failed: 3 });
    assert.equal(executions.failureRate, 1);
    assert.equal(executions.failedSignals.count, 3);
    assert.deepEqual(executions.failedSignals.latest.map((f: any) => f.signalId).sort(), [...signalIds].sort());
    assert.match(executions.failedSignals.latest[0].error, /answered 503/);
    assert.deepEqual(executions.alertToFillMs, { p50: null, p95: null, p99: null, max: null });
  });

  it('a bulk retry after the outage: a dry run lists what would run, then each signal runs exactly once, and one too old to trade now is declined', async () => {
    // One of the three has become too old meanwhile: its alert and receipt move back two hours (MAX_ALERT_AGE_SECONDS is 1 h).
    const [fresh1, fresh2, stale] = signalIds as [string, string, string];
    await svc.pool.query(
      `UPDATE signals SET alert_time = now() - interval '2 hours', received_at = now() - interval '2 hours' WHERE id = $1`,
      [stale],
    );
    const callsBefore = target.calls.length;

    const dry = await svc.api(`/api/signals/retry?since=${encodeURIComponent(since)}&dryRun=true`, { method: 'POST' });
    assert.equal(dry.status, 200);
    assert.equal(dry.body.dryRun, true);
    assert.deepEqual(dry.body.counts, { queued: 2, declined: 1, skipped: 0 });
    assert.deepEqual(dry.body.signals.map((s: any) => [s.signalId, s.result]), [[fresh1, 'queued'], [fresh2, 'queued'], [stale, 'declined']]);
    assert.equal(dry.body.signals[2].reason, 'stale_alert');
    assert.match(dry.body.signals[0].previousError, /answered 503/);
    for (const id of signalIds) assert.equal((await signal(id)).signal.status, 'failed'); // nothing ran
    assert.equal(target.calls.length, callsBefore);

    replies[0] = { status: 200, body: '{"orderId":"B-7"}' }; // the broker is back
    const run = await svc.api(`/api/signals/retry?since=${encodeURIComponent(since)}`, { method: 'POST' });
    assert.equal(run.status, 200);
    assert.deepEqual(run.body.counts, { queued: 2, declined: 1, skipped: 0 });
    assert.equal(run.body.more, false);

    for (const id of [fresh1, fresh2]) {
      const s = await settled(id, ['executed', 'failed']);
      assert.equal(s.signal.status, 'executed');
      assert.equal(s.signal.retries, 1);
      assert.equal(s.signal.lastError, null);
      // Both runs are kept: the failure of the webhook's run and the forward of the retry's.
      assert.deepEqual(s.executions.map((e: any) => e.outcome), ['forwarded', 'failed']);
      assert.equal(callsFor(id), 2); // once in the outage, once after: the same Idempotency-Key (the signal id)
      // Recorded and traced: the retry has its own trace, in which the new run executed.
      assert.equal(s.retries.length, 1);
      assert.equal(s.retries[0].result, 'queued');
      assert.match(s.retries[0].previousError, /answered 503/);
      assert.match(s.retries[0].traceId, /^[0-9a-f]{32}$/);
      assert.notEqual(s.retries[0].traceId, s.signal.traceId);
      assert.equal(s.executions[0].traceId, s.retries[0].traceId);
      assert.equal(s.executions[1].traceId, s.signal.traceId);
    }
    const declined = await signal(stale);
    assert.equal(declined.signal.status, 'declined');
    assert.equal(declined.signal.declineReason, 'stale_alert');
    assert.equal(declined.retries[0].result, 'declined');
    assert.equal(callsFor(stale), 1); // never sent again

    // Exactly once: nothing is failed any more, so a second bulk retry runs nothing, and a single retry is refused.
    const again = await svc.api(`/api/signals/retry?since=${encodeURIComponent(since)}`, { method: 'POST' });
    assert.deepEqual(again.body.counts, { queued: 0, declined: 0, skipped: 0 });
    const refused = await svc.api(`/api/signals/${fresh1}/retry`, { method: 'POST' });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'WH_ERR_CONFLICT');
    assert.equal(callsFor(fresh1), 2);

    const health = (await svc.api('/api/monitoring/health')).body;
    assert.equal(health.checks.executions.status, 'healthy', health.checks.executions.detail);
    const performance = (await svc.api('/api/monitoring/performance?window=last_hour')).body.executions;
    assert.equal(performance.byOutcome.forwarded, 2);
    assert.equal(performance.failedSignals.count, 0);
    assert.deepEqual(performance.retries.byOperator, { queued: 2, declined: 1 });
    for (const p of ['p50', 'p95', 'p99']) assert.ok(performance.alertToFillMs[p] > 0, p);
    const metrics = await scrape(svc.opsUrl);
    assert.equal(sampleValue(metrics, 'signal_retries_total', { result: 'queued' }), 2);
    assert.equal(sampleValue(metrics, 'signal_retries_total', { result: 'declined' }), 1);
  });

  it('two operators retrying one failed signal at once start one run', async () => {
    replies[0] = { status: 400, body: '{"error":"unknown symbol"}' };
    const res = await svc.post(alert({ ticker: 'NYSE:GE', price: 170 }));
    assert.equal((await settled(res.body.signalId)).signal.status, 'failed');
    replies[0] = { status: 200 };
    const answers = await Promise.all([1, 2].map(() => svc.api(`/api/signals/${res.body.signalId}/retry`, { method: 'POST' })));
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 409]);
    const s = await settled(res.body.signalId, ['executed']);
    assert.equal(s.retries.length, 1);
    assert.equal(callsFor(res.body.signalId), 2);
    assert.equal((await svc.api('/api/signals/not-a-uuid/retry', { method: 'POST' })).status, 400);
    assert.equal((await svc.api('/api/signals/01890a5d-ac96-774b-bcce-b302099a8057/retry', { method: 'POST' })).status, 404);
    assert.equal((await svc.api('/api/signals/retry', { method: 'POST' })).status, 400); // since is required
  });

  it('health names signals stuck without a job', async () => {
    const quiet = await startTestService({ HEALTH_QUEUE_MAX_AGE_SECONDS: '60' }); // no worker: the job waits
    try {
      const res = await quiet.post(alert({ price: 7 }));
      assert.equal((await quiet.api('/api/monitoring/health')).body.checks.executions.status, 'healthy');
      await removeJob(quiet.pool, res.body.signalId);
      await quiet.pool.query(`UPDATE signals SET updated_at = now() - interval '5 minutes' WHERE id = $1`, [res.body.signalId]);
      const health = (await quiet.api('/api/monitoring/health')).body;
      assert.equal(health.status, 'degraded');
      assert.equal(health.checks.executions.stuck, 1);
      assert.match(health.checks.executions.detail, new RegExp(`1 signal\\(s\\) stuck.*${res.body.signalId}`));
    } finally {
      await quiet.close();
    }
  });
});
