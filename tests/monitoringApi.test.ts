import assert from 'node:assert/strict';
import { uuidv7 } from 'uuidv7';
import { pruneRecords } from '../src/monitoring/pruneRecords.js';
import { alert, startTestService, type TestService } from './support/startTestService.js';
import { waitFor } from './support/waitFor.js';
import { rescheduleJob } from './support/jobQueue.js';

const STAGES = ['received', 'enriching', 'deciding', 'executing', 'completed'];

/** Inserts a webhook record (and its stages) with a given duration and age, as the sink would have. */
async function insertRecord(svc: TestService, o: { ms: number; status?: string; code?: string; ageSeconds?: number; stageMs?: number }) {
  const id = uuidv7();
  const created = new Date(Date.now() - (o.ageSeconds ?? 10) * 1000);
  const at = created.toISOString();
  const stages = STAGES.map((stage) => ({ id: uuidv7(), stage, started_at: at, completed_at: at, duration_ms: o.stageMs ?? o.ms / 10, status: 'completed' }));
  await svc.pool.query(
    `INSERT INTO webhook_requests (id, created_at, processing_time_ms, status, http_status, error_code, payload_size, stages)
     VALUES ($1, $2, $3, $4, $5, $6, 10, $7)`,
    [id, created, o.ms, o.status ?? 'success', o.status === 'rejected' ? 401 : o.status === 'failed' ? 503 : 200, o.code ?? null, JSON.stringify(stages)],
  );
  return id;
}

describe('monitoring API', function () {
  this.timeout(60_000);

  describe('performance', () => {
    let svc: TestService;
    before(async () => {
      svc = await startTestService({ MONITORING_ENABLED: 'false' }); // only the records inserted here
      for (let ms = 1; ms <= 100; ms++) await insertRecord(svc, { ms, stageMs: ms });
      await insertRecord(svc, { ms: 5, status: 'rejected', code: 'WH_ERR_AUTH_INVALID' });
      await insertRecord(svc, { ms: 5, status: 'rejected', code: 'WH_ERR_AUTH_INVALID' });
      await insertRecord(svc, { ms: 7, status: 'rejected', code: 'WH_ERR_INVALID_PAYLOAD' });
      await insertRecord(svc, { ms: 3000, status: 'failed', code: 'WH_ERR_UNAVAILABLE' });
      await insertRecord(svc, { ms: 9999, ageSeconds: 2 * 3600 }); // outside last_hour
    });
    after(async () => svc.close());

    it('computes counts, rates and percentiles in SQL over the window', async () => {
      const res = await svc.api('/api/monitoring/performance?window=last_hour');
      assert.equal(res.status, 200);
      const p = res.body;
      assert.equal(p.window, 'last_hour');
      assert.ok(Date.parse(p.to) - Date.parse(p.from) === 3600_000);
      assert.deepEqual(p.requests, { total: 104, success: 100, failed: 1, rejected: 3 });
      assert.equal(p.successRate, 0.9615);
      // Our failures and the senders' mistakes are counted apart: only the first pages the operator.
      assert.equal(p.errorRate, 0.0096);
      assert.equal(p.rejectionRate, 0.0288);
      assert.equal(p.rejectionsByCode.WH_ERR_AUTH_INVALID, 2);
      assert.equal(p.rejectionsByCode.WH_ERR_INVALID_PAYLOAD, 1);
      assert.equal(p.processingTimeMs.max, 3000);
    });

    it('percentiles match known durations', async () => {
      await svc.pool.query("DELETE FROM webhook_requests WHERE status <> 'success'");
      const p = (await svc.api('/api/monitoring/performance?window=last_hour')).body;
      // 1..100 ms: continuous percentiles as in SQL's percentile_cont.
      assert.deepEqual(p.processingTimeMs, { avg: 50.5, p50: 50.5, p95: 95.05, p99: 99.01, max: 100 });
      // A webhook's stages live in its row, so deleting the 4 non-success webhooks took their stages too.
      assert.equal(p.stages.executing.count, 100);
      const wide = (await svc.api('/api/monitoring/performance?window=last_24_hours')).body;
      assert.equal(wide.processingTimeMs.max, 9999);
    });

    it('answers 400 for an unknown window', async () => {
      const res = await svc.api('/api/monitoring/performance?window=last_year');
      assert.equal(res.status, 400);
      assert.match(res.body.error.message, /window/);
    });
  });

  describe('retention', () => {
    it('deletes only records older than the cutoff', async () => {
      const svc = await startTestService({ MONITORING_ENABLED: 'false' });
      try {
        const old = await insertRecord(svc, { ms: 1, ageSeconds: 31 * 86400 });
        const fresh = await insertRecord(svc, { ms: 1, ageSeconds: 29 * 86400 });
        const deleted = await pruneRecords(svc.pool, new Date(Date.now() - 30 * 86400 * 1000));
        assert.deepEqual(deleted, { requests: 1, stages: 5, uncountedStages: 0 });
        const left = await svc.pool.query('SELECT id FROM webhook_requests');
        assert.deepEqual(left.rows.map((r) => r.id), [fresh]);
        assert.equal((await svc.pool.query('SELECT count(*)::int AS n FROM processing_stages WHERE webhook_id = $1', [old])).rows[0].n, 0);
        assert.equal((await svc.pool.query('SELECT count(*)::int AS n FROM processing_stages WHERE webhook_id = $1', [fresh])).rows[0].n, 5);
      } finally {
        await svc.close();
      }
    });

    it('is not stopped by a row whose stages are not JSON (stored as text since migration 0012): the batch is deleted uncounted', async () => {
      const svc = await startTestService({ MONITORING_ENABLED: 'false' });
      try {
        await insertRecord(svc, { ms: 1, ageSeconds: 31 * 86400 });
        const broken = await insertRecord(svc, { ms: 1, ageSeconds: 32 * 86400 });
        // Only the service writes these rows, always as JSON.stringify wrote them; this one was edited by hand.
        await svc.pool.query(`UPDATE webhook_requests SET stages = '[{"stage": "received", oops' WHERE id = $1`, [broken]);
        const fresh = await insertRecord(svc, { ms: 1, ageSeconds: 29 * 86400 });
        const deleted = await pruneRecords(svc.pool, new Date(Date.now() - 30 * 86400 * 1000));
        assert.deepEqual(deleted, { requests: 2, stages: 0, uncountedStages: 2 });
        assert.deepEqual((await svc.pool.query('SELECT id FROM webhook_requests')).rows.map((r) => r.id), [fresh]);
      } finally {
        await svc.close();
      }
    });
  });

  describe('webhooks, realtime, replay', () => {
    let svc: TestService;
    before(async () => {
      svc = await startTestService({ TRACE_UI_URL: 'http://jaeger.local:16686/' });
    });
    after(async () => svc.close());

    async function recorded(id: string) {
      return waitFor(async () => {
        const r = await svc.api(`/api/webhooks/${id}`);
        return r.status === 200 ? r.body : undefined;
      }, { what: `record ${id}` });
    }

    it('lists webhooks newest first with filters, and shows one with its stages, signal and trace link', async () => {
      const ok = await svc.post(alert({ ticker: 'NYSE:IBM', price: 150 }));
      const bad = await svc.post(alert({ secret: 'wrong-one' }));
      await recorded(bad.body.webhookId);
      const detail = await recorded(ok.body.webhookId);
      assert.equal(detail.traceUrl, `http://jaeger.local:16686/trace/${detail.webhook.traceId}`);
      assert.equal(detail.signal.ticker, 'IBM');
      assert.deepEqual(detail.stages.map((s: any) => s.stage), STAGES);
      const rejected = await svc.api('/api/webhooks?status=rejected');
      assert.deepEqual(rejected.body.webhooks.map((w: any) => w.id), [bad.body.webhookId]);
      const byCode = await svc.api('/api/webhooks?code=WH_ERR_AUTH_INVALID');
      assert.equal(byCode.body.webhooks.length, 1);
      // The statuses a sender sees filter too: what it was answered, or the error code.
      const accepted = await svc.api('/api/webhooks?status=accepted');
      assert.deepEqual(accepted.body.webhooks.map((w: any) => w.id), [ok.body.webhookId]);
      const byStatusCode = await svc.api('/api/webhooks?status=WH_ERR_AUTH_INVALID');
      assert.deepEqual(byStatusCode.body.webhooks.map((w: any) => w.id), [bad.body.webhookId]);
      assert.equal((await svc.api('/api/webhooks?status=declined')).body.webhooks.length, 0);
      const badStatus = await svc.api('/api/webhooks?status=fine');
      assert.equal(badStatus.status, 400);
      assert.match(badStatus.body.error.message, /status: must be one of success, rejected, failed, accepted, duplicate, declined or an error code/);
      assert.deepEqual(accepted.body.webhooks[0].execution, { status: 'queued', error: null }); // no worker in this service
      const byTicker = await svc.api('/api/webhooks?ticker=ibm');
      assert.deepEqual(byTicker.body.webhooks.map((w: any) => w.id), [ok.body.webhookId]);
      const page = await svc.api('/api/webhooks?limit=1');
      assert.equal(page.body.webhooks[0].id, bad.body.webhookId);
      const next = await svc.api(`/api/webhooks?limit=1&cursor=${page.body.nextCursor}`);
      assert.equal(next.body.webhooks[0].id, ok.body.webhookId);
      const none = await svc.api(`/api/webhooks?until=${encodeURIComponent(new Date(Date.now() - 3600_000).toISOString())}`);
      assert.deepEqual(none.body.webhooks, []);
      assert.equal((await svc.api('/api/webhooks/01890a5d-ac96-774b-bcce-b302099a8057')).status, 404);
      assert.equal((await svc.api('/api/webhooks?code=nope')).status, 400);
    });

    it('realtime shows the last minute, the queue and the latest errors', async () => {
      const rt = (await svc.api('/api/monitoring/realtime')).body;
      assert.ok(rt.requestsPerMinute >= 2);
      assert.equal(rt.errorRate, 0); // a wrong secret is the sender's mistake, not ours
      assert.ok(rt.rejectionRate > 0);
      assert.equal(rt.inFlight, 0);
      assert.equal(typeof rt.queue.depth, 'number');
      assert.equal(rt.latestErrors[0].code, 'WH_ERR_AUTH_INVALID');
      assert.match(rt.latestErrors[0].traceId, /^[0-9a-f]{32}$/);
    });

    it('replays a stored webhook as a new one linked to it: a duplicate, or a new signal with force=true', async () => {
      const first = await svc.post(alert({ ticker: 'REPLAY', price: 10 }));
      await recorded(first.body.webhookId);
      const again = await svc.api(`/api/webhooks/${first.body.webhookId}/replay`, { method: 'POST' });
      assert.equal(again.status, 200);
      assert.equal(again.body.status, 'duplicate');
      assert.equal(again.body.signalId, first.body.signalId);
      assert.equal(again.body.replayOf, first.body.webhookId);
      const forced = await svc.api(`/api/webhooks/${first.body.webhookId}/replay?force=true`, { method: 'POST' });
      assert.equal(forced.body.status, 'accepted');
      assert.notEqual(forced.body.signalId, first.body.signalId);
      const record = await recorded(forced.body.webhookId);
      assert.equal(record.webhook.replayOf, first.body.webhookId);
      assert.deepEqual(record.stages.map((s: any) => s.stage), STAGES);
      assert.equal(record.signal.id, forced.body.signalId);
    });

    it('a replay of a refused webhook is refused again, with its own record', async () => {
      const bad = await svc.post(alert({ ticker: 'REPLAY2', action: 'hodl' }));
      await recorded(bad.body.webhookId);
      const res = await svc.api(`/api/webhooks/${bad.body.webhookId}/replay`, { method: 'POST' });
      assert.equal(res.status, 422);
      assert.equal(res.body.error.code, 'WH_ERR_UNKNOWN_ACTION');
      assert.notEqual(res.body.webhookId, bad.body.webhookId);
      const record = await recorded(res.body.webhookId);
      assert.equal(record.webhook.replayOf, bad.body.webhookId);
      assert.equal(record.webhook.status, 'rejected');
    });

    it('a webhook whose body could not be read cannot be replayed (409)', async () => {
      const broken = await svc.post('{nope');
      await recorded(broken.body.webhookId);
      const res = await svc.api(`/api/webhooks/${broken.body.webhookId}/replay`, { method: 'POST' });
      assert.equal(res.status, 409);
    });
  });

  describe('health', () => {
    it('is healthy, then degraded by an old queued job, then unhealthy when the queue is hours behind', async () => {
      const svc = await startTestService({ HEALTH_QUEUE_MAX_AGE_SECONDS: '60' });
      try {
        const healthy = await svc.api('/api/monitoring/health');
        assert.equal(healthy.status, 200);
        assert.equal(healthy.body.status, 'healthy', JSON.stringify(healthy.body));
        for (const check of ['database', 'queue', 'worker', 'sink', 'traceExporter', 'eventLoop', 'memory']) assert.ok(healthy.body.checks[check], check);

        const res = await svc.post(alert({ price: 5 })); // the worker is off in this service: the job waits
        await rescheduleJob(svc.pool, res.body.signalId, 5 * 60);
        const degraded = await svc.api('/api/monitoring/health');
        assert.equal(degraded.status, 200);
        assert.equal(degraded.body.status, 'degraded');
        assert.equal(degraded.body.checks.queue.status, 'degraded');
        assert.ok(degraded.body.checks.queue.oldestJobAgeSeconds >= 300);

        await rescheduleJob(svc.pool, res.body.signalId, 2 * 3600);
        const behind = await svc.api('/api/monitoring/health');
        assert.equal(behind.status, 503);
        assert.equal(behind.body.checks.queue.status, 'unhealthy');
      } finally {
        await svc.close();
      }
    });

    it('reports the in-process worker dead as unhealthy', async () => {
      const svc = await startTestService({ WORKER_ENABLED: 'true' });
      try {
        assert.equal((await svc.api('/api/monitoring/health')).body.checks.worker.status, 'healthy');
        await svc.worker!.stop();
        const res = await svc.api('/api/monitoring/health');
        assert.equal(res.status, 503);
        assert.equal(res.body.checks.worker.status, 'unhealthy');
      } finally {
        await svc.close();
      }
    });
  });
});
