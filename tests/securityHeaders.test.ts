import assert from 'node:assert/strict';
import { alert, startTestService, type TestService } from './support/startTestService.js';

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

  it('on the operations listener', async () => {
    assertSecurityHeaders((await fetch(`${svc.opsUrl}/metrics`)).headers, '/metrics');
    assertSecurityHeaders((await fetch(`${svc.opsUrl}/healthz`)).headers, '/healthz');
  });
});
