import { type ProtobufWriter, WIRE } from './protobufWriter.js';

/**
 * Attributes as OTLP `repeated KeyValue` (opentelemetry/proto/common/v1/common.proto), field `field` of the
 * message being written, encoded as the OpenTelemetry SDK encodes them: a string, a boolean, an integer
 * (int_value) or any other number (double_value), an array (array_value); a missing value is an empty AnyValue.
 */
export function writeOtlpAttributes(w: ProtobufWriter, field: number, attributes: Readonly<Record<string, unknown>>): void {
  for (const key in attributes) writeOtlpKeyValue(w, field, key, attributes[key]);
}

/**
 * What one attribute key last encoded to: its KeyValue's body (key, then value) when the value was a short string.
 * A webhook's root span has about 19 attributes and most of their values are the same from one webhook to the next
 * (method, route, auth scheme, status, outcome, the sender's address, the ticker of a busy strategy): such a value
 * is copied as the bytes it last encoded to, and any other still finds its key's bytes made once. A slot holds one
 * value, overwritten in place: nothing is allocated per webhook, and a key whose value always changes (an id)
 * costs a comparison and a copy of at most SLOT_BYTES. `node dist/bench/consumerCost.js`, three times against the
 * previous build: the OTLP encoding of a webhook 5.88-6.22 µs against 6.15-6.88 (docs/benchmarks.md, seventeenth
 * round).
 */
interface KeySlot {
  /** Field 1 of KeyValue: its tag, length and the key's UTF-8 bytes. */
  key: Uint8Array;
  value: string | undefined;
  body: Uint8Array;
  bodyLength: number;
}

/** Keys remembered at most (ours are a few dozen); any key past them is written as before, without a slot. */
const MAX_SLOTS = 256;
/** A KeyValue body remembered is shorter than this (key and value): its length is one byte. */
const SLOT_BYTES = 128;
const slots = new Map<string, KeySlot>();

function slotOf(key: string): KeySlot | undefined {
  let slot = slots.get(key);
  if (slot === undefined && slots.size < MAX_SLOTS) {
    const bytes = Buffer.from(key, 'utf8');
    if (bytes.length > 120) return undefined;
    const encoded = new Uint8Array(2 + bytes.length);
    encoded[0] = (1 << 3) | WIRE.bytes;
    encoded[1] = bytes.length;
    encoded.set(bytes, 2);
    slot = { key: encoded, value: undefined, body: new Uint8Array(SLOT_BYTES), bodyLength: 0 };
    slots.set(key, slot);
  }
  return slot;
}

/** One KeyValue, field `field` of the message being written. */
export function writeOtlpKeyValue(w: ProtobufWriter, field: number, key: string, value: unknown): void {
  w.tag(field, WIRE.bytes);
  const slot = slotOf(key);
  if (slot !== undefined && typeof value === 'string' && value === slot.value) {
    w.varint(slot.bodyLength);
    w.raw(slot.body, slot.bodyLength);
    return;
  }
  const kv = w.begin();
  const start = w.pos;
  if (slot === undefined) {
    w.tag(1, WIRE.bytes);
    w.string(key);
  } else w.raw(slot.key, slot.key.length);
  w.tag(2, WIRE.bytes);
  const any = w.begin();
  writeAnyValue(w, value);
  w.end(any);
  if (slot !== undefined && typeof value === 'string' && w.pos - start < SLOT_BYTES) {
    // Remembered as written (under 128 bytes, so `end` below moves nothing and its length is one byte).
    const length = w.pos - start;
    const buf = w.buf;
    for (let i = 0; i < length; i++) slot.body[i] = buf[start + i]!;
    slot.bodyLength = length;
    slot.value = value;
  }
  w.end(kv);
}

const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;

/** The body of an AnyValue. */
function writeAnyValue(w: ProtobufWriter, value: unknown): void {
  switch (typeof value) {
    case 'string':
      w.tag(1, WIRE.bytes);
      w.string(value);
      return;
    case 'boolean':
      w.tag(2, WIRE.varint);
      w.varint(value ? 1 : 0);
      return;
    case 'number':
      if (Number.isInteger(value) && value >= MIN_INT64 && value < MAX_INT64) {
        w.tag(3, WIRE.varint);
        w.int64(value);
      } else {
        w.tag(4, WIRE.fixed64);
        w.double(value);
      }
      return;
    default:
      if (Array.isArray(value)) {
        w.tag(5, WIRE.bytes);
        const array = w.begin();
        for (const item of value as unknown[]) {
          w.tag(1, WIRE.bytes);
          const any = w.begin();
          writeAnyValue(w, item);
          w.end(any);
        }
        w.end(array);
      } else if (value instanceof Uint8Array) {
        w.tag(7, WIRE.bytes);
        w.lengthPrefixed(value);
      }
  }
}
