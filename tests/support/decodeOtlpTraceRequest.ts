/**
 * Decodes an OTLP ExportTraceServiceRequest (protobuf) completely, by the field numbers and types of
 * opentelemetry/proto/collector/trace/v1/trace_service.proto, trace/v1/trace.proto, common/v1/common.proto and
 * resource/v1/resource.proto, into plain objects in which every field is present (proto3: a field not written
 * has its default value). Two encodings of the same spans decode to deep-equal objects whatever the order of
 * their fields and whichever zero values they write; attributes are listed sorted by key. Its own wire reader,
 * written from the protobuf encoding spec: nothing shared with the service's encoder.
 */
type Wire = { field: number; wire: number; varint?: bigint; bytes?: Buffer; fixed?: Buffer };

function readMessage(buf: Buffer): Wire[] {
  const out: Wire[] = [];
  let i = 0;
  const varint = (): bigint => {
    let value = 0n;
    let shift = 0n;
    for (let n = 0; n < 10; n++) {
      if (i >= buf.length) throw new Error('truncated varint');
      const b = buf[i++]!;
      value |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return value;
      shift += 7n;
    }
    throw new Error('varint longer than 10 bytes');
  };
  while (i < buf.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    if (field === 0) throw new Error('field number 0');
    if (wire === 0) out.push({ field, wire, varint: varint() });
    else if (wire === 1 || wire === 5) {
      const size = wire === 1 ? 8 : 4;
      if (i + size > buf.length) throw new Error('truncated fixed field');
      out.push({ field, wire, fixed: buf.subarray(i, i + size) });
      i += size;
    } else if (wire === 2) {
      const length = Number(varint());
      if (i + length > buf.length) throw new Error(`field ${field}: length ${length} past the end`);
      out.push({ field, wire, bytes: buf.subarray(i, i + length) });
      i += length;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

/** The last occurrence of a singular field (proto3 semantics), checked for its wire type. */
function last(fields: Wire[], n: number, wire: number): Wire | undefined {
  let found: Wire | undefined;
  for (const f of fields) {
    if (f.field !== n) continue;
    if (f.wire !== wire) throw new Error(`field ${n}: wire type ${f.wire}, expected ${wire}`);
    found = f;
  }
  return found;
}
const repeated = (fields: Wire[], n: number) => fields.filter((f) => f.field === n).map((f) => {
  if (f.wire !== 2) throw new Error(`field ${n}: wire type ${f.wire}, expected 2`);
  return f.bytes!;
});
const str = (fields: Wire[], n: number) => last(fields, n, 2)?.bytes?.toString('utf8') ?? '';
const hex = (fields: Wire[], n: number) => last(fields, n, 2)?.bytes?.toString('hex') ?? '';
const uint = (fields: Wire[], n: number) => Number(last(fields, n, 0)?.varint ?? 0n);
const fixed64 = (fields: Wire[], n: number) => (last(fields, n, 1)?.fixed?.readBigUInt64LE(0) ?? 0n).toString();
const fixed32 = (fields: Wire[], n: number) => last(fields, n, 5)?.fixed?.readUInt32LE(0) ?? 0;

export type AnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: string }
  | { doubleValue: number }
  | { arrayValue: AnyValue[] }
  | { kvlistValue: KeyValue[] }
  | { bytesValue: string }
  | Record<string, never>;
export interface KeyValue {
  key: string;
  value: AnyValue;
}

function anyValue(buf: Buffer): AnyValue {
  const f = readMessage(buf);
  const which = f.at(-1); // a oneof: the last one written wins
  if (!which) return {};
  switch (which.field) {
    case 1: return { stringValue: str(f, 1) };
    case 2: return { boolValue: uint(f, 2) !== 0 };
    case 3: return { intValue: BigInt.asIntN(64, last(f, 3, 0)!.varint!).toString() };
    case 4: return { doubleValue: last(f, 4, 1)!.fixed!.readDoubleLE(0) };
    case 5: return { arrayValue: repeated(readMessage(which.bytes!), 1).map(anyValue) };
    case 6: return { kvlistValue: keyValues(readMessage(which.bytes!), 1) };
    case 7: return { bytesValue: which.bytes!.toString('hex') };
    default: throw new Error(`AnyValue field ${which.field}`);
  }
}

function keyValues(fields: Wire[], n: number): KeyValue[] {
  return repeated(fields, n)
    .map((b) => {
      const kv = readMessage(b);
      const value = last(kv, 2, 2);
      return { key: str(kv, 1), value: value ? anyValue(value.bytes!) : {} };
    })
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export interface DecodedSpan {
  traceId: string;
  spanId: string;
  traceState: string;
  parentSpanId: string;
  flags: number;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: KeyValue[];
  droppedAttributesCount: number;
  events: Array<{ timeUnixNano: string; name: string; attributes: KeyValue[]; droppedAttributesCount: number }>;
  droppedEventsCount: number;
  links: Array<{ traceId: string; spanId: string; traceState: string; attributes: KeyValue[]; droppedAttributesCount: number; flags: number }>;
  droppedLinksCount: number;
  status: { message: string; code: number };
}

function span(buf: Buffer): DecodedSpan {
  const s = readMessage(buf);
  const status = last(s, 15, 2);
  const st = status ? readMessage(status.bytes!) : [];
  return {
    traceId: hex(s, 1),
    spanId: hex(s, 2),
    traceState: str(s, 3),
    parentSpanId: hex(s, 4),
    flags: fixed32(s, 16),
    name: str(s, 5),
    kind: uint(s, 6),
    startTimeUnixNano: fixed64(s, 7),
    endTimeUnixNano: fixed64(s, 8),
    attributes: keyValues(s, 9),
    droppedAttributesCount: uint(s, 10),
    events: repeated(s, 11).map((b) => {
      const e = readMessage(b);
      return { timeUnixNano: fixed64(e, 1), name: str(e, 2), attributes: keyValues(e, 3), droppedAttributesCount: uint(e, 4) };
    }),
    droppedEventsCount: uint(s, 12),
    links: repeated(s, 13).map((b) => {
      const l = readMessage(b);
      return { traceId: hex(l, 1), spanId: hex(l, 2), traceState: str(l, 3), attributes: keyValues(l, 4), droppedAttributesCount: uint(l, 5), flags: fixed32(l, 6) };
    }),
    droppedLinksCount: uint(s, 14),
    status: { message: str(st, 2), code: uint(st, 3) },
  };
}

export interface DecodedRequest {
  resourceSpans: Array<{
    resource: { attributes: KeyValue[]; droppedAttributesCount: number };
    scopeSpans: Array<{
      scope: { name: string; version: string; attributes: KeyValue[]; droppedAttributesCount: number };
      spans: DecodedSpan[];
      schemaUrl: string;
    }>;
    schemaUrl: string;
  }>;
}

export function decodeOtlpTraceRequest(body: Uint8Array): DecodedRequest {
  const request = readMessage(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  for (const f of request) if (f.field !== 1) throw new Error(`ExportTraceServiceRequest field ${f.field}`);
  return {
    resourceSpans: repeated(request, 1).map((rsBytes) => {
      const rs = readMessage(rsBytes);
      const resource = last(rs, 1, 2);
      const r = resource ? readMessage(resource.bytes!) : [];
      return {
        resource: { attributes: keyValues(r, 1), droppedAttributesCount: uint(r, 2) },
        scopeSpans: repeated(rs, 2).map((ssBytes) => {
          const ss = readMessage(ssBytes);
          const scope = last(ss, 1, 2);
          const sc = scope ? readMessage(scope.bytes!) : [];
          return {
            scope: { name: str(sc, 1), version: str(sc, 2), attributes: keyValues(sc, 3), droppedAttributesCount: uint(sc, 4) },
            spans: repeated(ss, 2).map(span),
            schemaUrl: str(ss, 3),
          };
        }),
        schemaUrl: str(rs, 3),
      };
    }),
  };
}

/** The KeyValues written as field `field` of a message (its bytes), sorted by key. */
export function decodeKeyValues(message: Buffer, field: number): KeyValue[] {
  return keyValues(readMessage(message), field);
}
