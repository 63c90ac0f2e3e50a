import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import pg from 'pg';
import { sampleValue, scrape } from './support/metricsText.js';
import { alert, startTestService, type TestService } from './support/startTestService.js';
import { adminUrl } from './support/testDatabase.js';
import { waitFor } from './support/waitFor.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

async function recordOf(svc: TestService, webhookId: string): Promise<any> {
  return waitFor(async () => {
    const r = await svc.api(`/api/webhooks/${webhookId}`);
    return r.status === 200 ? r.body.webhook : undefined;
  }, { what: `record of ${webhookId}` });
}

/** POSTs a webhook from a given loopback address (127.0.0.0/8 are all this machine): one client per address. */
function postFrom(svc: TestService, localAddress: string, body: string): Promise<number> {
  const url = new URL(`${svc.url}/api/webhooks/tradingview`);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', localAddress, headers: { 'content-type': 'application/json' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('monitoring records: always storable, bounded, and one bad record never costs another', function () {
  this.timeout(90_000);

  it('payloads Postgres cannot store (NUL, lone surrogates in values and keys, 20,000 levels of nesting) are cleaned and cut, and the accepted alert in the same batch is kept', async () => {
    // One batch: the accepted alert and the four bad requests are written together.
    const svc = await startTestService({ MONITORING_BATCH_SIZE: '5', MONITORING_FLUSH_INTERVAL_MS: '60000', MONITORING_MAX_ATTEMPTS: '2' });
    try {
      const accepted = await svc.post(alert({ price: 101 }));
      assert.equal(accepted.body.status, 'accepted');
      const nul = await svc.post('{"secret":"wrong","note":"a\\u0000b"}');
      const surrogates = await svc.post('{"secret":"wrong","note":"x\\ud800y","k\\udc00":"v"}');
      // 20,000 levels is refused while parsing (400: deeper than 32); 24 levels parses, and its record is cut at 16.
      const deep = await svc.post(`{"secret":"wrong","deep":${'['.repeat(20_000)}${']'.repeat(20_000)}}`);
      assert.equal(deep.status, 400);
      const nested = `{"secret":"wrong","deep":${'['.repeat(23)}${']'.repeat(23)}}`;
      const mid = await svc.post(nested);
      for (const r of [nul, surrogates, mid]) assert.equal(r.status, 401);

      const a = await recordOf(svc, accepted.body.webhookId);
      assert.equal(a.status, 'success');
      assert.equal(a.truncation, null);
      assert.equal(a.payloadSha256, sha256(JSON.stringify({ ticker: 'BINANCE:BTCUSDT', action: 'buy', quantity: '0.5', price: 101 })));
      // Kept whole, the payload's digest is its stored text's, computed when the detail is read, not stored.
      const storedDigest = async (id: string) => (await svc.pool.query('SELECT payload_sha256 FROM webhook_requests WHERE id = $1', [id])).rows[0].payload_sha256;
      assert.equal(await storedDigest(accepted.body.webhookId), null);

      const n = await recordOf(svc, nul.body.webhookId);
      assert.equal(n.payload.note, 'a\ufffdb');
      assert.deepEqual(n.truncation.payload.reasons, ['text']);
      assert.equal(n.truncation.payload.replacedChars, 1);

      const s = await recordOf(svc, surrogates.body.webhookId);
      assert.deepEqual(s.payload, { note: 'x\ufffdy', 'k\ufffd': 'v' });
      assert.equal(s.truncation.payload.replacedChars, 2);

      const d = await recordOf(svc, mid.body.webhookId);
      assert.deepEqual(d.truncation.payload.reasons, ['depth']);
      assert.equal(d.truncation.payload.maxDepth, 16);
      let level = d.payload.deep;
      for (let i = 1; i < 15; i++) level = level[0];
      assert.deepEqual(level, ['[cut: nested deeper than 16 levels]']);
      assert.equal(d.payloadSha256, sha256(`{"deep":${'['.repeat(23)}${']'.repeat(23)}}`), 'digest of the whole payload, secret removed');
      assert.equal(await storedDigest(mid.body.webhookId), d.payloadSha256, 'a payload cut keeps the digest of the whole in its row');

      const r = await recordOf(svc, deep.body.webhookId);
      assert.equal(r.errorCode, 'WH_ERR_MALFORMED_BODY');
      assert.equal(r.payloadSize, 40_026, 'the body size is kept');
      assert.ok(r.payload.raw.length <= 1024 && r.payload.raw.startsWith('{"secret":[redacted],"deep":[[['), 'its first KiB, secret value redacted');

      const stats = svc.telemetry.sink!.getStats();
      assert.equal(stats.failed, 0);
      assert.equal(stats.retried, 0);
    } finally {
      await svc.close();
    }
  });

  it('a row Postgres refuses anyway fails alone: the rest of its batch is written, nothing is retried', async () => {
    const svc = await startTestService({ MONITORING_BATCH_SIZE: '6', MONITORING_FLUSH_INTERVAL_MS: '60000', MONITORING_MAX_ATTEMPTS: '3' });
    // Stands for any row the database refuses for a reason the record builder did not foresee.
    await svc.pool.query(`ALTER TABLE webhook_requests ADD CONSTRAINT refuse_marked CHECK (user_agent IS DISTINCT FROM 'refuse-me')`);
    try {
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) {
        const r = await svc.post(alert({ price: 200 + i }), { headers: { 'user-agent': i === 3 ? 'refuse-me' : 'TradingView' } });
        assert.equal(r.body.status, 'accepted');
        ids.push(r.body.webhookId);
      }
      await waitFor(async () => svc.telemetry.sink!.getStats().written === 5 * 6, { what: 'five webhooks written' });
      const stored = (await svc.pool.query('SELECT id FROM webhook_requests ORDER BY id')).rows.map((r) => r.id);
      assert.deepEqual(stored, ids.filter((_, i) => i !== 3));
      const stats = svc.telemetry.sink!.getStats();
      assert.equal(stats.failed, 6, 'the refused webhook: its request and five stage records');
      assert.equal(stats.retried, 0, 'a refused row is not retried');
      assert.match(stats.lastError ?? '', new RegExp(`record ${ids[3]} refused: .*refuse_marked`));
      assert.equal(sampleValue(await scrape(svc.opsUrl), 'monitoring_sink_records_total', { outcome: 'failed' }), 6);
    } finally {
      await svc.close();
    }
  });

  it('a rejected request keeps the first KiB of its payload, with its size and digest; an accepted one keeps all of it', async () => {
    const svc = await startTestService({ BODY_LIMIT_BYTES: String(128 * 1024) });
    try {
      const junk = randomBytes(45_000).toString('base64'); // 60,000 characters
      const fields = { ticker: 'BINANCE:BTCUSDT', action: 'buy', junk };
      const wrong = JSON.stringify({ secret: 'wrong', ...fields });
      const rejected = await svc.post(wrong);
      assert.equal(rejected.status, 401);
      const unreadable = await svc.post(`{"secret": "hunter2222", "junk": "${junk}`); // unterminated JSON
      assert.equal(unreadable.status, 400);
      const accepted = await svc.post(alert({ junk }));
      assert.equal(accepted.body.status, 'accepted');

      const r = await recordOf(svc, rejected.body.webhookId);
      assert.equal(r.payloadSize, Buffer.byteLength(wrong));
      assert.ok(Buffer.byteLength(JSON.stringify(r.payload)) <= 1024, `kept ${Buffer.byteLength(JSON.stringify(r.payload))} bytes`);
      assert.equal(r.payload.ticker, 'BINANCE:BTCUSDT', 'the first members are kept');
      assert.ok(junk.startsWith(r.payload.junk) && r.payload.junk.length > 800, 'and the head of the one that does not fit');
      assert.deepEqual(r.truncation.payload.reasons, ['size']);
      assert.equal(r.truncation.payload.limitBytes, 1024);
      assert.equal(r.payloadSha256, sha256(JSON.stringify(fields)), 'SHA-256 of the whole payload without its secret field');

      const u = await recordOf(svc, unreadable.body.webhookId);
      assert.ok(Buffer.byteLength(JSON.stringify(u.payload)) <= 1024);
      assert.ok(!JSON.stringify(u).includes('hunter2222'), 'no secret in the record');
      assert.equal(u.payloadSha256, sha256(`{"secret": [redacted], "junk": "${junk}`), 'digest of the whole text with the secret value replaced');

      const a = await recordOf(svc, accepted.body.webhookId);
      assert.equal(a.payload.junk, junk);
      assert.equal(a.truncation, null);
      // A payload kept in part cannot be replayed: it is not what was sent. (An accepted alert is cut past
      // 64 KiB; a body that large needs a BODY_LIMIT_BYTES above the default.)
      const huge = await svc.post(alert({ junk: `${junk}${junk}`, price: 777 }));
      assert.equal(huge.body.status, 'accepted');
      const h = await recordOf(svc, huge.body.webhookId);
      assert.deepEqual(h.truncation.payload.reasons, ['size']);
      const replay = await svc.api(`/api/webhooks/${h.id}/replay`, { method: 'POST' });
      assert.equal(replay.status, 409);
      assert.match(replay.body.error.message, /cut before it was stored/);
    } finally {
      await svc.close();
    }
  });

  it('the rejected-record bound is fair per client: a noisy sender uses up its own share, not the records of others', async () => {
    const svc = await startTestService({ HOST: '0.0.0.0', MONITORING_REJECTED_PER_MINUTE: '20', MONITORING_REJECTED_PER_CLIENT_PER_MINUTE: '5' });
    try {
      const wrong = JSON.stringify({ secret: 'wrong', ticker: 'BTCUSDT', action: 'buy' });
      for (let i = 0; i < 30; i++) assert.equal(await postFrom(svc, '127.0.0.2', wrong), 401);
      for (let i = 0; i < 3; i++) assert.equal(await postFrom(svc, '127.0.0.3', wrong), 401);
      const count = async (ip: string) => (await svc.pool.query('SELECT count(*)::int AS n FROM webhook_requests WHERE source_ip = $1', [ip])).rows[0].n as number;
      await waitFor(async () => (await count('127.0.0.3')) === 3, { what: "the quiet client's 3 records" });
      await svc.telemetry.sink!.flushOnce();
      assert.equal(await count('127.0.0.2'), 5, 'the noisy client keeps 5 of its 30');
      assert.equal(svc.telemetry.sink!.getStats().rateLimited, 25 * 3, '25 webhooks x 3 records counted, not stored');
      assert.equal(sampleValue(await scrape(svc.opsUrl), 'webhook_requests_total', { status: 'rejected', code: 'WH_ERR_AUTH_INVALID' }), 33, 'metrics count every request');
    } finally {
      await svc.close();
    }
  });

  it('with the database down, the record buffer stays within MONITORING_BUFFER_MAX_BYTES, drops the oldest and counts them; the rest is written when it is back', async () => {
    const maxBytes = 256 * 1024;
    const svc = await startTestService({
      MONITORING_BUFFER_MAX_BYTES: String(maxBytes),
      MONITORING_REJECTED_PER_MINUTE: '0',
      MONITORING_REJECTED_PER_CLIENT_PER_MINUTE: '0',
      MONITORING_MAX_ATTEMPTS: '1000',
      MONITORING_FLUSH_INTERVAL_MS: '50',
      MONITORING_WRITE_TIMEOUT_MS: '500',
    });
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    const allow = (yes: boolean) => admin.query(`ALTER DATABASE ${svc.db.name} ALLOW_CONNECTIONS ${yes}`);
    try {
      await allow(false);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [svc.db.name]);
      // 400 rejected requests of 60 KB without a secret: refused without the database, each with a record.
      const body = JSON.stringify({ ticker: 'BTCUSDT', action: 'buy', junk: 'x'.repeat(60_000) });
      let peakBytes = 0;
      for (let i = 0; i < 400; i++) {
        assert.equal((await svc.post(body)).status, 401);
        peakBytes = Math.max(peakBytes, svc.telemetry.sink!.getStats().bufferedBytes);
      }
      const down = svc.telemetry.sink!.getStats();
      assert.ok(down.retried > 0, 'writes were tried and failed');
      assert.ok(down.dropped > 0, 'the oldest records were dropped at the bound');
      assert.ok(peakBytes > maxBytes / 2 && peakBytes <= maxBytes, `buffer held at most ${peakBytes} of ${maxBytes} bytes`);
      assert.equal(down.written, 0);
      // The buffer's gauges, read at the scrape, say what the sink holds.
      const whileDown = await scrape(svc.opsUrl);
      const held = svc.telemetry.sink!.getStats();
      assert.ok(held.bufferedRecords > 0 && held.bufferedBytes > 0);
      assert.equal(sampleValue(whileDown, 'monitoring_sink_buffer_records'), held.bufferedRecords);
      assert.equal(sampleValue(whileDown, 'monitoring_sink_buffer_bytes'), held.bufferedBytes);

      await allow(true);
      await waitFor(async () => svc.telemetry.sink!.getStats().bufferedRecords === 0, { what: 'the buffer to drain', timeoutMs: 30_000 });
      const stats = svc.telemetry.sink!.getStats();
      const stored = (await svc.pool.query('SELECT count(*)::int + coalesce(sum(json_array_length(stages::json)), 0)::int AS n FROM webhook_requests')).rows[0].n;
      assert.equal(stats.written, stored, 'every kept record written');
      assert.equal(stats.written + stats.dropped + stats.failed, 400 * 3, 'every record accounted for');
      assert.equal(stats.failed, 0);
      const metrics = await scrape(svc.opsUrl);
      assert.equal(sampleValue(metrics, 'monitoring_sink_records_total', { outcome: 'dropped' }), stats.dropped);
      assert.equal(sampleValue(metrics, 'monitoring_sink_buffer_bytes'), 0);
    } finally {
      await allow(true).catch(() => undefined);
      await admin.end();
      await svc.close();
    }
  });
});
