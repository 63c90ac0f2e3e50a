import assert from 'node:assert/strict';
import http from 'node:http';
import pg from 'pg';
import { freePort } from './support/freePort.js';
import { sampleValue, scrape } from './support/metricsText.js';
import { alert, startTestService } from './support/startTestService.js';
import { waitFor } from './support/waitFor.js';

describe('monitoring never slows or breaks webhook processing', function () {
  this.timeout(60_000);

  it('with the records table locked during a burst: answers go on, the sink retries, drops at its bound, counts everything, and resumes', async () => {
    const svc = await startTestService({
      MONITORING_WRITE_TIMEOUT_MS: '200',
      MONITORING_FLUSH_INTERVAL_MS: '50',
      MONITORING_BUFFER_MAX_RECORDS: '300',
      MONITORING_MAX_ATTEMPTS: '1000',
      MONITORING_REJECTED_PER_MINUTE: '0',
    });
    const locker = new pg.Client({ connectionString: svc.db.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE webhook_requests IN ACCESS EXCLUSIVE MODE');
      const answers = [];
      for (let i = 0; i < 100; i++) answers.push(await svc.post(i % 4 === 3 ? alert({ secret: 'wrong' }) : alert({ price: 100 + i })));
      // Every answer came back while the table was still locked: none of them waited for the sink.
      assert.deepEqual(answers.map((a) => a.status), Array.from({ length: 100 }, (_, i) => (i % 4 === 3 ? 401 : 200)));
      await waitFor(async () => svc.telemetry.sink!.getStats().retried > 0, { what: 'a retried write' });
      const during = svc.telemetry.sink!.getStats();
      assert.ok(during.dropped > 0, 'records dropped at the bound');
      assert.ok(during.bufferedRecords <= 300, `buffer bounded (${during.bufferedRecords})`);
      const health = await svc.api('/api/monitoring/health');
      assert.equal(health.body.status, 'degraded');
      assert.equal(health.body.checks.sink.status, 'degraded');
      await locker.query('ROLLBACK');

      await waitFor(async () => svc.telemetry.sink!.getStats().bufferedRecords === 0, { what: 'the buffer to drain' });
      const stats = svc.telemetry.sink!.getStats();
      const stored = (await svc.pool.query('SELECT (SELECT count(*) FROM webhook_requests) + (SELECT count(*) FROM processing_stages) AS n')).rows[0].n;
      assert.equal(stats.written, stored, 'written = rows in the tables');
      const stageRows = answers.reduce((n, a) => n + (a.status === 200 ? 5 : 2), 0);
      assert.equal(stats.written + stats.dropped + stats.failed, answers.length + stageRows, 'every record accounted for');
      const metrics = await scrape(svc.opsUrl);
      assert.equal(sampleValue(metrics, 'monitoring_sink_records_total', { outcome: 'dropped' }), stats.dropped);
      assert.ok(sampleValue(metrics, 'monitoring_sink_records_total', { outcome: 'retried' }) > 0);
      // Records resume: a new webhook is written normally.
      const later = await svc.post(alert({ price: 999 }));
      await waitFor(async () => (await svc.api(`/api/webhooks/${later.body.webhookId}`)).status === 200, { what: 'a new record' });
    } finally {
      await locker.end();
      await svc.close();
    }
  });

  it('keeps rejected-request records to a rate bound and counts the rest', async () => {
    const svc = await startTestService({ MONITORING_REJECTED_PER_MINUTE: '5' });
    try {
      // The limiter's rolling minute is two counts on the clock's minutes (rejectedRecordLimiter.test.ts moves its
      // timestamps across one): requests that straddle a minute's start may keep a sixth record. Sent clear of it.
      const toNextMinuteMs = 60_000 - (Date.now() % 60_000);
      if (toNextMinuteMs < 5_000) await new Promise((r) => setTimeout(r, toNextMinuteMs + 50));
      for (let i = 0; i < 12; i++) assert.equal((await svc.post(alert({ secret: 'wrong' }))).status, 401);
      await waitFor(async () => (await svc.pool.query("SELECT count(*)::int AS n FROM webhook_requests")).rows[0].n === 5, { what: '5 records' });
      const stats = svc.telemetry.sink!.getStats();
      assert.equal(stats.rateLimited, 7 * 3, '7 webhooks x 3 records not stored');
      const metrics = await scrape(svc.opsUrl);
      assert.equal(sampleValue(metrics, 'webhook_requests_total', { status: 'rejected', code: 'WH_ERR_AUTH_INVALID' }), 12, 'metrics count every request');
      assert.equal(sampleValue(metrics, 'monitoring_sink_records_total', { outcome: 'rate_limited' }), 21);
    } finally {
      await svc.close();
    }
  });

  it('an exporter pointed at a dead endpoint changes nothing for requests, and is counted', async () => {
    const svc = await startTestService({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await freePort()}` });
    try {
      for (let i = 0; i < 5; i++) assert.equal((await svc.post(alert({ price: i + 1 }))).body.status, 'accepted');
      await waitFor(async () => sampleValue(await scrape(svc.opsUrl), 'trace_export_failures_total') > 0, { what: 'export failures counted' });
      const health = await svc.api('/api/monitoring/health');
      assert.equal(health.body.checks.traceExporter.status, 'degraded');
      await waitFor(async () => (await svc.pool.query('SELECT count(*)::int AS n FROM webhook_requests')).rows[0].n === 5, { what: 'records still written' });
    } finally {
      await svc.close();
    }
  });

  it('a collector that never answers: spans beyond OTEL_BSP_MAX_QUEUE_SIZE are dropped and counted, requests unaffected', async () => {
    const hanging = http.createServer(() => undefined); // reads nothing, answers nothing
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const port = (hanging.address() as { port: number }).port;
    const svc = await startTestService({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_BSP_MAX_QUEUE_SIZE: '12' });
    try {
      for (let i = 0; i < 10; i++) assert.equal((await svc.post(alert({ price: i + 1 }))).body.status, 'accepted');
      // 10 webhooks make 60 spans: one batch of 12 is stuck in the exporter, 12 wait in the queue, the rest go.
      const dropped = await waitFor(async () => {
        const n = sampleValue(await scrape(svc.opsUrl), 'trace_export_dropped_spans_total');
        return n >= 30 ? n : undefined;
      }, { what: 'dropped spans counted' });
      assert.ok(dropped <= 60 - 12, `${dropped} dropped`);
      await waitFor(async () => (await svc.pool.query('SELECT count(*)::int AS n FROM webhook_requests')).rows[0].n === 10, { what: 'records still written' });
    } finally {
      await svc.close();
      hanging.closeAllConnections();
      hanging.close();
    }
  });

  it('MONITORING_ENABLED=false: the same answers, no records, no /metrics', async () => {
    const svc = await startTestService({ MONITORING_ENABLED: 'false' });
    try {
      assert.equal((await svc.post(alert())).body.status, 'accepted');
      assert.equal((await svc.post(alert({ secret: 'x-wrong' }))).status, 401);
      assert.equal((await fetch(`${svc.opsUrl}/metrics`)).status, 404);
      await svc.telemetry.stop(1000);
      assert.equal((await svc.pool.query('SELECT count(*)::int AS n FROM webhook_requests')).rows[0].n, 0);
    } finally {
      await svc.close();
    }
  });
});
