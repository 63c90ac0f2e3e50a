import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { fitAcceptSockets, readOpenFileLimit } from '../src/http/fitAcceptSockets.js';
import { rawHttp, rawJsonBody } from './support/rawHttp.js';
import { startServiceProcess } from './support/startServiceProcess.js';
import { createTestDatabase } from './support/testDatabase.js';
import { alert, startTestService, type TestService } from './support/startTestService.js';

/** Listening TCP sockets on `port` (IPv4), from /proc/net/tcp (state 0A is LISTEN). */
async function listeningSockets(port: number): Promise<number> {
  const text = await readFile('/proc/net/tcp', 'utf8');
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return text.split('\n').filter((line) => {
    const fields = line.trim().split(/\s+/);
    return fields[1]?.endsWith(`:${hexPort}`) && fields[3] === '0A';
  }).length;
}

/** One webhook on a connection of its own (no keep-alive): the kernel picks the accept socket by its address. */
function postOnNewConnection(url: string, body: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/api/webhooks/tradingview`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', connection: 'close' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('accept sockets: the webhook port is served by HTTP_ACCEPT_SOCKETS listening sockets, one app behind them', function () {
  this.timeout(60_000);
  let svc: TestService;
  let port: number;
  before(async () => {
    svc = await startTestService({ HTTP_ACCEPT_SOCKETS: '8' });
    port = Number(new URL(svc.url).port);
  });
  after(async () => {
    await svc?.close();
  });

  it('listens with 8 sockets on the port, and each new connection, whichever socket took it, gets the webhook route', async () => {
    assert.equal(await listeningSockets(port), 8);
    // 64 connections from different source ports: the chance that the kernel gave all of them to the app's own
    // socket is 8^-64, so the extra sockets answer too; a socket without the app's handlers would never answer.
    const answers = await Promise.all(Array.from({ length: 64 }, (_, i) => postOnNewConnection(svc.url, JSON.stringify(alert({ ticker: `BINANCE:S${i}USDT` })))));
    assert.deepEqual(answers.map((a) => `${a.status} ${a.body.error?.code ?? ""}`), Array(64).fill("200 "));
    assert.equal(new Set(answers.map((a) => a.body.signalId)).size, 64);
  });

  it('answers a malformed request on any socket with the service\'s own 400 (the parser\'s errors are handled alike)', async () => {
    const exchanges = await Promise.all(Array.from({ length: 32 }, () => rawHttp(svc.url, { first: 'POST /api/webhooks/tradingview HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n' })));
    for (const e of exchanges) {
      assert.match(e.response, /^HTTP\/1\.1 400 /);
      assert.equal(rawJsonBody(e.response)?.error?.code, 'WH_ERR_BAD_REQUEST');
    }
  });

  it('refuses a second instance on the same port instead of sharing it (only a probe without SO_REUSEPORT decides)', async () => {
    await assert.rejects(startTestService({ PORT: String(port) }), /PORT \d+ is already in use/);
    assert.equal(await listeningSockets(port), 8);
  });

  it('closes every socket when the service stops', async () => {
    await svc.close();
    assert.equal(await listeningSockets(port), 0);
    svc = undefined as unknown as TestService;
  });
});

describe('accept sockets: HTTP_ACCEPT_SOCKETS=1 is one plain socket', function () {
  this.timeout(60_000);
  it('starts with a headers timeout above the request timeout (Node refuses that pair in a server\'s constructor)', async () => {
    const svc = await startTestService({ HTTP_ACCEPT_SOCKETS: '4', HEADERS_TIMEOUT_MS: '15000', REQUEST_TIMEOUT_MS: '10000' });
    try {
      assert.equal(await listeningSockets(Number(new URL(svc.url).port)), 4);
      assert.equal((await svc.post(alert())).status, 200);
    } finally {
      await svc.close();
    }
  });

  it('listens with one socket and serves webhooks', async () => {
    const svc = await startTestService({ HTTP_ACCEPT_SOCKETS: '1' });
    try {
      assert.equal(await listeningSockets(Number(new URL(svc.url).port)), 1);
      assert.equal((await svc.post(alert())).status, 200);
    } finally {
      await svc.close();
    }
  });
});

describe('accept sockets: never more than a quarter of the open-file limit', function () {
  this.timeout(90_000);
  it('fitAcceptSockets keeps HTTP_ACCEPT_SOCKETS under a quarter of the limit, and readOpenFileLimit reads the soft limit', () => {
    assert.equal(fitAcceptSockets(1024, 1024), 256);
    assert.equal(fitAcceptSockets(1024, 20_000), 1024);
    assert.equal(fitAcceptSockets(8, 3), 1);
    assert.equal(fitAcceptSockets(1024, undefined), 1024);
    const limits = 'Limit                     Soft Limit           Hard Limit           Units     \nMax open files            4096                 8192                 files     \n';
    assert.equal(readOpenFileLimit(limits), 4096);
    assert.equal(readOpenFileLimit('Max open files            unlimited            unlimited            files\n'), undefined);
    assert.equal(readOpenFileLimit(''), undefined);
  });

  it('a service started under a limit of 1,024 open files listens with 256 sockets, says why, and serves webhooks (1,024 sockets failed with EMFILE)', async () => {
    const db = await createTestDatabase();
    const svc = await startServiceProcess({ DATABASE_URL: db.url, RATE_LIMIT_PER_MINUTE: '0' }, { runUnder: ['prlimit', '--nofile=1024:1024', '--'] });
    try {
      assert.equal(await listeningSockets(Number(new URL(svc.url).port)), 256);
      assert.match(svc.output(), /HTTP_ACCEPT_SOCKETS lowered to 256, a quarter of the open-file limit \(1024\)/);
      const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => postOnNewConnection(svc.url, JSON.stringify(alert({ ticker: `BINANCE:L${i}USDT` })))));
      assert.deepEqual(answers.map((a) => a.status), Array(16).fill(200));
    } finally {
      await svc.stop();
      await db.drop();
    }
  });
});
