import assert from 'node:assert/strict';
import { alert, startTestService, TEST_SECRET, type TestService } from './support/startTestService.js';

/**
 * Every parser and regular expression on the request path must do work linear in the input. A quadratic one
 * (the placeholder regex on 60 KB of `{` took 2 s, 8 s on the 2-core CI machine) blocks the event loop, and with
 * it every other request: a concurrent /healthz waited as long.
 *
 * No absolute time is asserted. Each hostile body is compared, in the same run, with a harmless body of the
 * same size that takes the same path: the hostile one (and a /healthz sent alongside it) must take at most
 * RATIO times as long, plus SLACK_MS for scheduling noise on a shared machine. Quadratic work at this size is
 * hundreds of times slower; linear work is within a small factor. The best of ATTEMPTS runs is compared on
 * both sides, so one pause (garbage collection, another test process) cannot fail the test.
 */
const SIZE = 60_000;
const RATIO = 10;
const SLACK_MS = 250;
const ATTEMPTS = 3;

describe('webhook endpoint: hostile bodies cost linear work and do not stall other requests', () => {
  let svc: TestService;
  let baselineMs: number;
  let price = 1;
  before(async () => {
    svc = await startTestService();
  });
  after(async () => svc.close());

  async function post(body: string, contentType: string) {
    const res = await fetch(`${svc.url}/api/webhooks/tradingview`, { method: 'POST', headers: { 'content-type': contentType }, body });
    await res.arrayBuffer();
    return res.status;
  }

  /** The best of ATTEMPTS: the POST's duration and that of a /healthz sent at the same moment. */
  async function measure(body: () => string, contentType: string): Promise<{ postMs: number; healthMs: number; status: number }> {
    let best = { postMs: Infinity, healthMs: Infinity, status: 0 };
    for (let i = 0; i < ATTEMPTS; i++) {
      const text = body();
      const started = performance.now();
      const timed = async <T>(p: Promise<T>) => {
        const value = await p;
        return { value, ms: performance.now() - started };
      };
      const [posted, health] = await Promise.all([
        timed(post(text, contentType)),
        timed(fetch(`${svc.url}/healthz`).then((r) => r.status)),
      ]);
      assert.equal(health.value, 200);
      best = { postMs: Math.min(best.postMs, posted.ms), healthMs: Math.min(best.healthMs, health.ms), status: posted.value };
    }
    return best;
  }

  /** An alert whose `note` (an extra field, so it passes every stage and is stored) is `note`. */
  const withNote = (note: string) => () => JSON.stringify(alert({ note, price: price++ }));

  it('measures a harmless body of the same size (the baseline)', async () => {
    const m = await measure(withNote('a'.repeat(SIZE)), 'application/json');
    assert.equal(m.status, 200);
    baselineMs = m.postMs;
  });

  const hostile: Array<[string, () => string, string]> = [
    ['60 KB of "{" (the placeholder regex)', withNote('{'.repeat(SIZE)), 'application/json'],
    ['"{{" then 60 KB without a close', withNote(`{{${'a'.repeat(SIZE)}`), 'application/json'],
    ['"{{a}" repeated', withNote('{{a}'.repeat(SIZE / 4)), 'application/json'],
    ['60 KB of "}"', withNote('}'.repeat(SIZE)), 'application/json'],
    ['60 KB of digits as the quantity', () => JSON.stringify(alert({ quantity: '1'.repeat(SIZE) })), 'application/json'],
    ['digits and "_" ending in a letter as the price', () => JSON.stringify(alert({ price: `${'1_'.repeat(SIZE / 2)}x` })), 'application/json'],
    ['60 KB as the action', () => JSON.stringify(alert({ action: 'b'.repeat(SIZE) })), 'application/json'],
    ['60 KB as the time', () => JSON.stringify(alert({ time: '9'.repeat(SIZE) })), 'application/json'],
    ['thousands of fields', () => JSON.stringify(alert(Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`f_${i}`, i])))), 'application/json'],
    ['thousands of NUL escapes', () => JSON.stringify(alert({ note: '\u0000'.repeat(SIZE / 6) })), 'application/json'],
    ['60 KB of "[" (unterminated nesting)', () => '['.repeat(SIZE), 'application/json'],
    ['60 KB of newlines then an error', () => `${'\n'.repeat(SIZE)}{"a": x}`, 'application/json'],
    ['60 KB that is not JSON', () => 'x'.repeat(SIZE), 'application/json'],
    ['60 KB of text without "="', () => 'a'.repeat(SIZE), 'text/plain'],
    ['a KEY=VALUE value opening a quote that never closes', () => `secret=${TEST_SECRET}\nticker=BTCUSD\naction=buy\nnote="${'x'.repeat(SIZE)}`, 'text/plain'],
    ['"secret" followed by 60 KB of spaces', () => `secret${' '.repeat(SIZE)}x`, 'text/plain'],
  ];
  for (const [name, body, contentType] of hostile) {
    it(`${name}: answered (no 5xx), and neither it nor a concurrent /healthz takes over ${RATIO}x the baseline`, async () => {
      const m = await measure(body, contentType);
      assert.ok(m.status < 500, `status ${m.status}`);
      const bound = RATIO * baselineMs + SLACK_MS;
      assert.ok(m.postMs <= bound, `the webhook took ${m.postMs.toFixed(0)} ms; baseline ${baselineMs.toFixed(0)} ms`);
      assert.ok(m.healthMs <= bound, `/healthz took ${m.healthMs.toFixed(0)} ms; baseline ${baselineMs.toFixed(0)} ms`);
    });
  }
});
