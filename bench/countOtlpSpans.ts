/**
 * Spans in an OTLP/HTTP trace export request, in either encoding: JSON (resourceSpans[].scopeSpans[].spans[])
 * or protobuf (ExportTraceServiceRequest: field 1 ResourceSpans, its field 2 ScopeSpans, its field 2 Span),
 * read with a minimal wire-format walk so the bench's receiver needs no schema.
 */
export function countOtlpSpans(body: Buffer, contentType: string | undefined): number {
  if (contentType?.includes('json')) {
    const doc = JSON.parse(body.toString('utf8')) as { resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: unknown[] }> }> };
    let n = 0;
    for (const r of doc.resourceSpans ?? []) for (const s of r.scopeSpans ?? []) n += s.spans?.length ?? 0;
    return n;
  }
  let n = 0;
  for (const resource of fieldsOf(body, 1)) for (const scope of fieldsOf(resource, 2)) n += fieldsOf(scope, 2).length;
  return n;
}

/** The length-delimited fields numbered `wanted` of one protobuf message. */
function fieldsOf(message: Buffer, wanted: number): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  const varint = (): number => {
    let value = 0;
    let shift = 0;
    for (;;) {
      const b = message[i++]!;
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
      shift += 7;
    }
  };
  while (i < message.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) varint();
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else if (wire === 2) {
      const length = varint();
      if (field === wanted) out.push(message.subarray(i, i + length));
      i += length;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
  return out;
}
