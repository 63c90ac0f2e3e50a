import assert from 'node:assert/strict';
import fc from 'fast-check';
import { alert, startTestService, TEST_SECRET, type TestService } from './support/startTestService.js';
import { waitFor } from './support/waitFor.js';

/**
 * Property over the whole endpoint, over real HTTP: whatever the body, the answer is never a 5xx, always a JSON
 * answer (an error with a WH_ERR_ code, or an accepted/duplicate/declined alert), and the process goes on
 * answering. Seeded, so a failure reproduces; fast-check prints the smallest failing body it shrank to.
 */
const SEED = 20_261_128;
const RUNS = 5_000;

const ALIASES = [
  'ticker', 'symbol', 'Instrument', 'action', 'side', 'direction', 'signal', 'order_action', 'orderAction', 'Order-Action',
  'quantity', 'qty', 'contracts', 'size', 'order_contracts', 'price', 'close', 'order_price', 'time', 'timenow', 'timestamp',
  'id', 'alert_id', 'order_id', 'strategy', 'strategy_name', 'interval', 'timeframe', 'exchange', 'market_position',
  'position_size', 'name', 'comment',
];
const SECRET_FIELDS = ['secret', 'passphrase', 'key', 'SECRET', 'Key'];
const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'then'];
const ODD_STRINGS = [
  '', ' ', '   ', '\u0000', 'a\u0000b', '\ud800', '\udfff', 'x\ud83d', '\ud83d\ude00', '{{', '}}', '{{close}}', '{{strategy.order.action}}',
  '{'.repeat(20_000), '{{'.repeat(5_000), '}'.repeat(20_000), 'x'.repeat(20_000), '0x10', '0b11', '0o7', '1e400', '-1e400', '1e308', '-0', '0',
  'Infinity', '-Infinity', 'NaN', '1_000', '_1', '1__0', '.5', '5.', '+5', '-1', '1e20', '99999999999999999999', '+010000-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999Z', '2026-11-28T10:00:00Z', '1764324000', 'buy', 'SELL', 'long', 'short', 'close', 'exit', 'flat', 'constructor',
  '__proto__', 'toString', 'BINANCE:BTCUSDT', 'NASDAQ:AAPL', ':', 'A:', ':B', 'BTC/USD', TEST_SECRET, 'wrong-secret', 'null', 'true',
];
const ODD_NUMBERS = [1e308, -1e308, -0, 0, -1, 1, 0.5, 1e-320, 5e-324, Number.MAX_SAFE_INTEGER, 2 ** 64, 8.64e15, 1e15, 1e12, 1e11, 1.7e9, 1764324000123];

/** Text with control characters, lone surrogates and any code point, not only what JSON templates hold. */
const oddChar = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.constantFrom('{', '}', '=', ':', ';', ',', '\n', '"', '\\', ' ') },
  { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
);
const oddString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...ODD_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: oddChar, maxLength: 40 }) },
);
const oddNumber = fc.oneof(fc.constantFrom(...ODD_NUMBERS), fc.double(), fc.integer());
const key = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...ALIASES) },
  { weight: 1, arbitrary: fc.constantFrom(...PROTOTYPE_KEYS) },
  { weight: 1, arbitrary: fc.string({ unit: oddChar, maxLength: 12 }) },
);
const scalar = fc.oneof(
  { weight: 3, arbitrary: oddString },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 20 }) },
  { weight: 2, arbitrary: oddNumber },
  { weight: 1, arbitrary: fc.constantFrom(true, false, null) },
);
const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 5, arbitrary: scalar },
    { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.dictionary(key, tie('value'), { maxKeys: 4 }) },
  ),
}));
/** Nested beyond any sane template (and beyond the 32 levels parseBody allows). */
const deep = fc.integer({ min: 20, max: 60 }).map((n) => JSON.parse(`${'['.repeat(n)}1${']'.repeat(n)}`) as unknown);

const secretEntry = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...SECRET_FIELDS).map((k) => ({ [k]: TEST_SECRET })) },
  { weight: 1, arbitrary: fc.constant({}) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...SECRET_FIELDS), oddString).map(([k, v]) => ({ [k]: v })) },
);
/** An object mixing our aliases (mostly with the right secret, so that it reaches every stage). */
const fields = fc
  .tuple(secretEntry, fc.dictionary(key, fc.oneof({ weight: 30, arbitrary: value }, { weight: 1, arbitrary: deep }), { maxKeys: 6 }), fc.boolean())
  .map(([secret, rest, nearlyValid]) => ({
    // Half the time start from a valid alert, so that one odd field is all that differs.
    ...(nearlyValid ? alert() : {}),
    ...rest,
    ...secret,
  }));
// JSON.stringify writes an own "__proto__" key (as JSON.parse reads it) only when it is an own property.
const jsonText = fields.map((f) => JSON.stringify(f));

const keyValueText = fc
  .tuple(
    fc.array(fc.tuple(fc.oneof(key, fc.constantFrom(...SECRET_FIELDS)), fc.constantFrom('=', ':', ' ', ' = ', ''), oddString), { maxLength: 8 }),
    fc.constantFrom('\n', ';', ',', '\r\n'),
    fc.boolean(),
  )
  .map(([pairs, sep, withSecret]) =>
    [...(withSecret ? [`secret=${TEST_SECRET}`] : []), ...pairs.map(([k, s, v]) => `${k}${s}${v}`)].join(sep),
  );

/** Well-formed JSON cut short or with a byte changed: malformed bodies whose errors must not quote them. */
const brokenJson = fc.tuple(jsonText, fc.nat(), fc.constantFrom('', 'x', ',', '}', '"', '\u0000', '{{')).map(([text, at, insert]) => {
  const i = text.length === 0 ? 0 : at % text.length;
  return text.slice(0, i) + insert + text.slice(i + 1);
});

const contentType = (usual: string) =>
  fc.oneof(
    { weight: 12, arbitrary: fc.constant(usual) },
    { weight: 3, arbitrary: fc.constantFrom('application/json', 'text/plain', 'text/plain; charset=utf-8', 'Application/JSON; charset="UTF-8"') },
    { weight: 1, arbitrary: fc.constantFrom('application/json; charset=latin1', 'text/html', '') },
  );
const query = fc.oneof({ weight: 6, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom(`token=${TEST_SECRET}`, 'token=nope', 'token=%00', 'token=%ZZ') });
const request = fc.oneof(
  { weight: 6, arbitrary: fc.record({ body: jsonText, contentType: contentType('application/json'), query }) },
  { weight: 2, arbitrary: fc.record({ body: keyValueText, contentType: contentType('text/plain'), query }) },
  { weight: 1, arbitrary: fc.record({ body: brokenJson, contentType: contentType('application/json'), query }) },
  { weight: 1, arbitrary: fc.record({ body: fc.string({ unit: oddChar, maxLength: 200 }), contentType: contentType('text/plain'), query }) },
);

describe('webhook endpoint: fuzzed bodies (fast-check, seeded)', () => {
  let svc: TestService;
  before(async () => {
    svc = await startTestService({ MONITORING_REJECTED_PER_MINUTE: '0', MONITORING_FLUSH_INTERVAL_MS: '50' });
  });
  after(async () => svc.close());

  it(`${RUNS} bodies mixing aliases, prototype keys, odd strings and numbers, nesting: never a 5xx; then a valid alert is accepted`, async function () {
    this.timeout(120_000);
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async ({ body, contentType, query }) => {
        const res = await fetch(`${svc.url}/api/webhooks/tradingview${query ? `?${query}` : ''}`, {
          method: 'POST',
          headers: { 'content-type': contentType },
          body,
        });
        const text = await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        assert.ok(res.status < 500, `${res.status}: ${text.slice(0, 500)}`);
        const answer = JSON.parse(text);
        if (res.status >= 400) assert.match(answer.error.code, /^WH_ERR_[A-Z_]+$/);
        else assert.ok(['accepted', 'duplicate', 'declined'].includes(answer.status), text);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: false },
    );
    // The run must have reached every stage, not only the parser: some accepted, some refused at each step.
    for (const status of [200, 400, 401, 415, 422]) assert.ok((statuses.get(status) ?? 0) > 0, `no ${status} in ${JSON.stringify([...statuses])}`);

    assert.equal((await fetch(`${svc.url}/healthz`)).status, 200);
    const res = await svc.post(alert({ price: 4242.5 }));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, 'accepted');
    // Every record reached Postgres: no payload made a batch fail.
    const sink = await waitFor(async () => {
      const stats = svc.telemetry.sink!.getStats();
      return stats.bufferedRecords === 0 ? stats : undefined;
    }, { what: 'the record sink to drain' });
    assert.equal(sink.lastError, null);
    assert.equal(sink.failed, 0);
    assert.equal(sink.dropped, 0);
  });
});
