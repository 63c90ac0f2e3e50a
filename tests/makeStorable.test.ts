import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { isFlatAndStorable, makeStorable, makeStorableText } from '../src/telemetry/makeStorable.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const limits = { maxBytes: 1024, maxDepth: 16, digest: true };

describe('makeStorable: any value as Postgres can store it, within bounds, saying what was cut', () => {
  it('keeps a clean small value as it is, with its JSON and no digest (the JSON is the whole value\'s)', () => {
    const value = { ticker: 'NASDAQ:AAPL', price: 187.5, strategy: { order: { action: 'buy', contracts: 2 } }, list: [1, null, true] };
    const r = makeStorable(value, limits);
    assert.equal(r.value, value);
    assert.equal(r.cut, null);
    assert.equal(r.bytes, Buffer.byteLength(JSON.stringify(value)));
    assert.equal(r.json, JSON.stringify(value));
    assert.equal(r.sha256, undefined);
  });

  it('replaces NUL and lone surrogates in values and keys, keeps valid pairs', () => {
    const r = makeStorable({ 'k\ud800': 'a\u0000b', pair: '\ud83d\ude00', tail: 'x\udc00' }, limits);
    assert.deepEqual({ ...(r.value as object) }, { 'k\ufffd': 'a\ufffdb', pair: '\ud83d\ude00', tail: 'x\ufffd' });
    assert.deepEqual(r.cut, { reasons: ['text'], replacedChars: 3, limitBytes: 1024, maxDepth: 16 });
  });

  it('cuts nesting deeper than maxDepth at any depth, without recursion', () => {
    const text = `{"d":${'['.repeat(50_000)}${']'.repeat(50_000)}}`;
    const r = makeStorable(JSON.parse(text), { ...limits, maxDepth: 3 });
    assert.deepEqual(JSON.parse(JSON.stringify(r.value)), { d: [['[cut: nested deeper than 3 levels]']] });
    assert.deepEqual(r.cut?.reasons, ['depth']);
    assert.equal(r.sha256, sha256(text));
  });

  it('keeps the first maxBytes of JSON in document order, cutting the string that does not fit', () => {
    const value = { a: 'x'.repeat(500), b: 'q"\\'.repeat(400), c: 'never' };
    const r = makeStorable(value, limits);
    const kept = r.value as Record<string, string>;
    assert.equal(kept.a, value.a);
    assert.ok(value.b.startsWith(kept.b!) && kept.b!.length > 100);
    assert.equal('c' in kept, false);
    const size = Buffer.byteLength(JSON.stringify(kept));
    assert.ok(size <= 1024 && size > 950, `${size} bytes`);
    assert.deepEqual(r.cut?.reasons, ['size']);
    assert.equal(r.sha256, sha256(JSON.stringify(value)));
  });

  it('a __proto__ key stays a key', () => {
    const r = makeStorable(JSON.parse('{"__proto__":{"polluted":1},"k":"\\u0000"}'), limits);
    assert.equal(JSON.stringify(r.value), '{"__proto__":{"polluted":1},"k":"\ufffd"}');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('text columns: cleaned and cut to maxBytes of UTF-8, never inside a surrogate pair', () => {
    const r = makeStorableText(`${'é'.repeat(5)}\ud83d\ude00\u0000`, 12);
    assert.equal(r.text, 'éééééé'.slice(0, 5));
    assert.deepEqual(r.cut?.reasons, ['text', 'size']);
  });
});

describe('isFlatAndStorable: what makeStorable would keep as it is, known without writing its JSON', () => {
  it("takes a stage's metadata (our own flat attributes) as it is", () => {
    assert.equal(isFlatAndStorable({ 'webhook.decision': 'accept', 'webhook.decline_reason': undefined }, 4096), true);
    assert.equal(isFlatAndStorable({ 'webhook.signal_id': '0192aaaa-0000-7000-8000-000000000000', 'webhook.outcome': 'queued' }, 4096), true);
    assert.equal(isFlatAndStorable({ 'webhook.status': 'failed', 'http.status_code': 500, 'webhook.replay': true }, 4096), true);
  });

  it('leaves to makeStorable anything nested, with NUL or a surrogate (in a value or a key), or that may not fit', () => {
    assert.equal(isFlatAndStorable({ a: { b: 1 } }, 4096), false);
    assert.equal(isFlatAndStorable({ a: ['x'] }, 4096), false);
    assert.equal(isFlatAndStorable({ a: null }, 4096), false);
    assert.equal(isFlatAndStorable({ a: 'x\u0000y' }, 4096), false);
    assert.equal(isFlatAndStorable({ a: 'lone \ud800' }, 4096), false);
    assert.equal(isFlatAndStorable({ 'k\u0000': 'v' }, 4096), false);
    // 700 control characters are 4,200 bytes of JSON (each written as \u0001).
    assert.equal(isFlatAndStorable({ a: '\u0001'.repeat(700) }, 4096), false);
    assert.ok(Buffer.byteLength(JSON.stringify({ a: '\u0001'.repeat(700) })) > 4096);
  });

  it('never says yes where makeStorable would cut or change anything (property)', () => {
    const value = fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.double(), fc.integer(), fc.boolean(), fc.constant(undefined));
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: 'binary', maxLength: 40 }), value, { maxKeys: 12 }), fc.integer({ min: 16, max: 8192 }), (input, maxBytes) => {
        if (!isFlatAndStorable(input, maxBytes)) return;
        const kept = makeStorable(input, { maxBytes, maxDepth: 2 });
        assert.equal(kept.cut, null, JSON.stringify(input));
        assert.equal(kept.value, input);
      }),
      { numRuns: 2000 },
    );
  });
});
