import assert from 'node:assert/strict';
import { sampleValue, scrape } from './support/metricsText.js';
import { rawHttp, rawJsonBody, WEBHOOK_REQUEST_HEAD } from './support/rawHttp.js';
import { startTestService, type TestService } from './support/startTestService.js';
import { waitFor } from './support/waitFor.js';

/** Node's default interval between its sweeps for expired headers/request timeouts. */
const NODE_DEFAULT_CHECK_MS = 30_000;
const HEADERS_TIMEOUT_MS = 1000;
const REQUEST_TIMEOUT_MS = 2000;

describe('webhook endpoint: client faults are rejections, and slow senders are cut off at their timeouts', () => {
  let svc: TestService;
  before(async () => {
    svc = await startTestService({ HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS), REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) });
  });
  after(async () => svc.close());

  async function recordsWithCode(code: string) {
    const { rows } = await svc.pool.query('SELECT status, http_status, error_code, error_message FROM webhook_requests WHERE error_code = $1', [code]);
    return rows;
  }

  function failedTotal(metrics: string): number {
    return metrics
      .split('\n')
      .filter((l) => l.startsWith('webhook_requests_total{status="failed"'))
      .reduce((n, l) => n + Number(l.split(' ')[1]), 0);
  }

  it('records a client that hangs up mid-body once, as rejected WH_ERR_CLIENT_ABORTED, never as failed', async () => {
    const exchange = await rawHttp(svc.url, { first: `${WEBHOOK_REQUEST_HEAD}Content-Length: 1000\r\n\r\n{"ticker":"BTC`, destroyAfterMs: 100 });
    assert.equal(exchange.response, '', 'nobody left to answer');
    const [row, ...more] = await waitFor(async () => {
      const rows = await recordsWithCode('WH_ERR_CLIENT_ABORTED');
      return rows.length > 0 ? rows : undefined;
    }, { what: 'the aborted webhook record' });
    assert.deepEqual(more, [], 'recorded exactly once');
    assert.equal(row.status, 'rejected');
    assert.equal(row.http_status, 400);
    assert.match(row.error_message, /closed before the whole request/);
    const metrics = await scrape(svc.opsUrl);
    assert.equal(sampleValue(metrics, 'webhook_requests_total', { status: 'rejected', code: 'WH_ERR_CLIENT_ABORTED' }), 1);
    assert.equal(failedTotal(metrics), 0, 'a client fault never counts against the error budget');
    assert.equal(sampleValue(metrics, 'webhook_requests_in_flight'), 0, 'the aborted request left the in-flight gauge');
  });

  it('answers a malformed chunked body with 400 WH_ERR_BAD_REQUEST and records it as rejected', async () => {
    const exchange = await rawHttp(svc.url, { first: `${WEBHOOK_REQUEST_HEAD}Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n` });
    assert.match(exchange.response, /^HTTP\/1\.1 400 /);
    const body = rawJsonBody(exchange.response);
    assert.equal(body.error.code, 'WH_ERR_BAD_REQUEST');
    assert.match(body.error.message, /HPE_INVALID_CHUNK_SIZE/);
    const rows = await waitFor(async () => {
      const r = await recordsWithCode('WH_ERR_BAD_REQUEST');
      return r.length > 0 ? r : undefined;
    }, { what: 'the malformed webhook record' });
    assert.equal(rows.length, 1);
    assert.equal(rows[0].status, 'rejected');
    const metrics = await scrape(svc.opsUrl);
    assert.equal(sampleValue(metrics, 'webhook_requests_total', { status: 'rejected', code: 'WH_ERR_BAD_REQUEST' }), 1);
    assert.equal(failedTotal(metrics), 0);
  });

  it('answers a malformed request line with 400 WH_ERR_BAD_REQUEST and the security headers, and counts nothing as failed', async () => {
    const exchange = await rawHttp(svc.url, { first: 'POST /api/webhooks/tradingview HTTP/1.1\r\nHost localhost\r\n\r\n' });
    assert.match(exchange.response, /^HTTP\/1\.1 400 /);
    assert.equal(rawJsonBody(exchange.response).error.code, 'WH_ERR_BAD_REQUEST');
    // Written on the socket, past Fastify's hooks: it still carries the security headers every answer has.
    const head = exchange.response.split('\r\n\r\n')[0]!;
    assert.match(head, /\r\nx-content-type-options: nosniff\r\n/);
    assert.match(head, /\r\ncontent-security-policy: default-src 'self';.*frame-ancestors 'self'/);
    assert.equal(failedTotal(await scrape(svc.opsUrl)), 0);
  });

  it('closes a sender that trickles its headers at HEADERS_TIMEOUT_MS with 408, not at Node\'s 30 s sweep', async () => {
    const exchange = await rawHttp(svc.url, { first: WEBHOOK_REQUEST_HEAD, trickle: 'X', trickleEveryMs: 200 });
    assert.match(exchange.response, /^HTTP\/1\.1 408 /);
    assert.equal(rawJsonBody(exchange.response).error.code, 'WH_ERR_REQUEST_TIMEOUT');
    assert.ok(exchange.elapsedMs >= HEADERS_TIMEOUT_MS * 0.9, `not before the setting (${exchange.elapsedMs} ms)`);
    assert.ok(exchange.elapsedMs < HEADERS_TIMEOUT_MS * 2 && exchange.elapsedMs < NODE_DEFAULT_CHECK_MS / 5, `closed after ${exchange.elapsedMs} ms`);
  });

  it('closes a sender that trickles its body at REQUEST_TIMEOUT_MS with 408 and records it as rejected', async () => {
    const exchange = await rawHttp(svc.url, { first: `${WEBHOOK_REQUEST_HEAD}Content-Length: 1000\r\n\r\n{`, trickle: ' ', trickleEveryMs: 200 });
    assert.match(exchange.response, /^HTTP\/1\.1 408 /);
    assert.ok(exchange.elapsedMs >= REQUEST_TIMEOUT_MS * 0.9, `not before the setting (${exchange.elapsedMs} ms)`);
    assert.ok(exchange.elapsedMs < REQUEST_TIMEOUT_MS * 2 && exchange.elapsedMs < NODE_DEFAULT_CHECK_MS / 5, `closed after ${exchange.elapsedMs} ms`);
    const rows = await waitFor(async () => {
      const r = await recordsWithCode('WH_ERR_REQUEST_TIMEOUT');
      return r.length > 0 ? r : undefined;
    }, { what: 'the slow webhook record' });
    assert.equal(rows.length, 1);
    assert.equal(rows[0].status, 'rejected');
    assert.equal(rows[0].http_status, 408);
    const metrics = await scrape(svc.opsUrl);
    assert.equal(sampleValue(metrics, 'webhook_requests_total', { status: 'rejected', code: 'WH_ERR_REQUEST_TIMEOUT' }), 1);
    assert.equal(failedTotal(metrics), 0);
  });
});
