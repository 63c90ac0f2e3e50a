/**
 * Decodes an OTLP/HTTP protobuf trace export (ExportTraceServiceRequest) into the OTLP JSON shape that
 * startOtlpReceiver reads (resourceSpans[].scopeSpans[].spans[], ids as hex, attributes as key/value), with a
 * plain wire-format reader: the field numbers are those of opentelemetry/proto/trace/v1/trace.proto.
 */
type Field = { field: number; wire: number; varint?: bigint; bytes?: Buffer; fixed?: Buffer };

function readFields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = (): bigint => {
    let value = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[i++]!;
      value |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return value;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ field, wire, varint: varint() });
    else if (wire === 1) {
      out.push({ field, wire, fixed: buf.subarray(i, i + 8) });
      i += 8;
    } else if (wire === 5) {
      out.push({ field, wire, fixed: buf.subarray(i, i + 4) });
      i += 4;
    } else if (wire === 2) {
      const length = Number(varint());
      out.push({ field, wire, bytes: buf.subarray(i, i + length) });
      i += length;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const all = (fields: Field[], n: number) => fields.filter((f) => f.field === n);
const one = (fields: Field[], n: number) => fields.find((f) => f.field === n);
const text = (f: Field | undefined) => f?.bytes?.toString('utf8');
const hex = (f: Field | undefined) => f?.bytes?.toString('hex');

function anyValue(buf: Buffer): Record<string, unknown> {
  const f = readFields(buf);
  const s = one(f, 1);
  if (s) return { stringValue: text(s) };
  const b = one(f, 2);
  if (b) return { boolValue: b.varint !== 0n };
  const n = one(f, 3);
  if (n) return { intValue: String(BigInt.asIntN(64, n.varint!)) };
  const d = one(f, 4);
  if (d) return { doubleValue: d.fixed!.readDoubleLE(0) };
  return {};
}

const attributes = (fields: Field[], n: number) =>
  all(fields, n).map((kv) => {
    const f = readFields(kv.bytes!);
    return { key: text(one(f, 1)), value: anyValue(one(f, 2)?.bytes ?? Buffer.alloc(0)) };
  });

export function decodeOtlpProtobuf(body: Buffer) {
  return {
    resourceSpans: all(readFields(body), 1).map((rs) => {
      const r = readFields(rs.bytes!);
      const resource = one(r, 1);
      return {
        resource: { attributes: resource ? attributes(readFields(resource.bytes!), 1) : [] },
        scopeSpans: all(r, 2).map((ss) => ({
          spans: all(readFields(ss.bytes!), 2).map((sp) => {
            const s = readFields(sp.bytes!);
            const status = one(s, 15);
            return {
              traceId: hex(one(s, 1)),
              spanId: hex(one(s, 2)),
              parentSpanId: hex(one(s, 4)) ?? '',
              name: text(one(s, 5)),
              kind: Number(one(s, 6)?.varint ?? 0n),
              attributes: attributes(s, 9),
              status: { code: status ? Number(one(readFields(status.bytes!), 3)?.varint ?? 0n) : 0 },
              links: all(s, 13).map((l) => {
                const lf = readFields(l.bytes!);
                return { traceId: hex(one(lf, 1)), spanId: hex(one(lf, 2)) };
              }),
            };
          }),
        })),
      };
    }),
  };
}
