import assert from 'node:assert/strict';
import helmet from 'helmet';
import { securityHeadersOf } from '../src/http/registerSecurityHeaders.js';
import { alert, startTestService, TEST_ADMIN_TOKEN, type TestService } from './support/startTestService.js';

/** Helmet's defaults that matter for an API: no sniffing, no framing, no scripts, no referrer. */
const EXPECTED = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'SAMEORIGIN',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
};

function assertSecurityHeaders(headers: Headers, where: string): void {
  for (const [name, value] of Object.entries(EXPECTED)) assert.equal(headers.get(name), value, `${name} on ${where}`);
  assert.match(headers.get('content-security-policy') ?? '', /default-src 'self'.*frame-ancestors 'self'/, `content-security-policy on ${where}`);
  assert.equal(headers.get('x-powered-by'), null, `x-powered-by on ${where}`);
}

describe('security headers: every answer of both listeners carries helmet\'s headers', function () {
  this.timeout(60_000);
  let svc: TestService;
  before(async () => {
    svc = await startTestService();
  });
  after(async () => {
    await svc?.close();
  });

  it('on accepted, refused and unknown-route answers of the public listener', async () => {
    assertSecurityHeaders((await svc.post(alert())).headers, 'a 200');
    assertSecurityHeaders((await svc.post(alert({ secret: 'wrong-secret-0123456789' }))).headers, 'a 401');
    assertSecurityHeaders((await fetch(`${svc.url}/nowhere`)).headers, 'a 404');
  });

  it('on the live stream, which writes its own head', async () => {
    const controller = new AbortController();
    const res = await fetch(`${svc.url}/api/monitoring/stream`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }, signal: controller.signal });
    try {
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
      assertSecurityHeaders(res.headers, 'the live stream');
    } finally {
      controller.abort();
    }
  });

  it('on the operations listener', async () => {
    assertSecurityHeaders((await fetch(`${svc.opsUrl}/metrics`)).headers, '/metrics');
    assertSecurityHeaders((await fetch(`${svc.opsUrl}/healthz`)).headers, '/healthz');
  });
});

describe('securityHeadersOf: helmet\'s headers, found once', () => {
  it('are exactly the ones helmet\'s middleware sets on a response', () => {
    const set = new Map<string, string>();
    const removed: string[] = [];
    const res = {
      setHeader: (name: string, value: string) => void set.set(name.toLowerCase(), value),
      removeHeader: (name: string) => void removed.push(name.toLowerCase()),
    };
    helmet()({} as never, res as never, () => undefined);
    assert.ok(set.size >= 10, `helmet set ${set.size} headers`);
    assert.deepEqual(securityHeadersOf(), Object.fromEntries(set));
    assert.deepEqual(removed, ['x-powered-by']);
  });

  it('follows helmet\'s options: a header turned off is not sent', () => {
    const headers = securityHeadersOf(helmet({ xFrameOptions: false }));
    assert.equal(headers['x-frame-options'], undefined);
    assert.equal(headers['x-content-type-options'], 'nosniff');
  });
});
