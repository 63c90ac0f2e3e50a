import { type ProtobufWriter, WIRE } from './protobufWriter.js';

/**
 * Attributes as OTLP `repeated KeyValue` (opentelemetry/proto/common/v1/common.proto), field `field` of the
 * message being written, encoded as the OpenTelemetry SDK encodes them: a string, a boolean, an integer
 * (int_value) or any other number (double_value), an array (array_value); a missing value is an empty AnyValue.
 */
export function writeOtlpAttributes(w: ProtobufWriter, field: number, attributes: Readonly<Record<string, unknown>>): void {
  for (const key in attributes) writeOtlpKeyValue(w, field, key, attributes[key]);
}

/** One KeyValue, field `field` of the message being written. */
export function writeOtlpKeyValue(w: ProtobufWriter, field: number, key: string, value: unknown): void {
  w.tag(field, WIRE.bytes);
  const kv = w.begin();
  w.tag(1, WIRE.bytes);
  w.string(key);
  w.tag(2, WIRE.bytes);
  const any = w.begin();
  writeAnyValue(w, value);
  w.end(any);
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
