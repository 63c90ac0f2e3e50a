import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ProtobufWriter } from '../src/telemetry/protobufWriter.js';
import { writeOtlpAttributes } from '../src/telemetry/writeOtlpAttributes.js';
import { type AnyValue, decodeKeyValues } from './support/decodeOtlpTraceRequest.js';

/** What an attribute value decodes to, as the SDK encodes it. */
function expected(value: unknown): AnyValue {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number') return Number.isInteger(value) && value >= -(2 ** 63) && value < 2 ** 63 ? { intValue: BigInt(value).toString() } : { doubleValue: value };
  return {};
}

describe('writeOtlpAttributes: KeyValues, a value repeated from the last webhook copied as it was encoded', () => {
  it('encodes every attribute of a sequence whatever was encoded before it (repeated, changed, long, not a string)', () => {
    // Few keys and values, so that most attributes repeat what their key last encoded, some change, some are long.
    const key = fc.constantFrom('http.route', 'trading.ticker', 'webhook.id', 'é.ключ', 'k'.repeat(110), 'k'.repeat(130));
    const value = fc.oneof(
      fc.constantFrom('POST', 'BTCUSDT', 'ETHUSDT', '', 'é✓', 'v'.repeat(100), 'v'.repeat(126), 'v'.repeat(300)),
      fc.string(),
      fc.integer(),
      fc.double({ noNaN: true }),
      fc.boolean(),
      fc.constant(undefined),
    );
    fc.assert(
      fc.property(fc.array(fc.dictionary(key, value), { minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 15 }), (sequence, field) => {
        for (const attributes of sequence) {
          const w = new ProtobufWriter(16);
          writeOtlpAttributes(w, field, attributes);
          const decoded = decodeKeyValues(Buffer.from(w.bytes()), field);
          const want = Object.keys(attributes).sort().map((k) => ({ key: k, value: expected(attributes[k]) }));
          assert.deepEqual(decoded, want);
        }
      }),
      { numRuns: 300 },
    );
  });
});
