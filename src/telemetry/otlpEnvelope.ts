import type { Attributes } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import { ProtobufWriter, WIRE } from './protobufWriter.js';
import { writeOtlpAttributes } from './writeOtlpAttributes.js';

/** Who made the spans: the process's resource and the tracer's instrumentation scope (the same for every webhook). */
export interface SpanOrigin {
  resource: Resource;
  scope: InstrumentationScope;
}

/**
 * The envelope of one export, written once per origin: an ExportTraceServiceRequest holds one ResourceSpans
 * (the resource) holding one ScopeSpans (the scope) holding the spans. The spans are written separately, one
 * webhook at a time (encodeOtlpSpans); at send time the request is `head`, the spans, `tail`, and only the two
 * lengths in the head depend on them.
 */
export class OtlpEnvelope {
  private readonly resource: Buffer;
  private readonly scope: Buffer;
  private readonly scopeTail: Buffer;
  private readonly resourceTail: Buffer;

  /** Needs the resource's attributes settled (see `settled`). */
  constructor(origin: SpanOrigin) {
    const w = new ProtobufWriter(1024);
    // ResourceSpans.resource (1): Resource.attributes (1).
    w.tag(1, WIRE.bytes);
    const resource = w.begin();
    writeOtlpAttributes(w, 1, origin.resource.attributes);
    w.end(resource);
    this.resource = Buffer.from(w.bytes());
    w.pos = 0;
    // ScopeSpans.scope (1): name (1), version (2), attributes (3).
    const scope = origin.scope as InstrumentationScope & { attributes?: Attributes };
    w.tag(1, WIRE.bytes);
    const at = w.begin();
    w.tag(1, WIRE.bytes);
    w.string(scope.name);
    if (scope.version) {
      w.tag(2, WIRE.bytes);
      w.string(scope.version);
    }
    if (scope.attributes) writeOtlpAttributes(w, 3, scope.attributes);
    w.end(at);
    this.scope = Buffer.from(w.bytes());
    this.scopeTail = schemaUrl(scope.schemaUrl);
    this.resourceTail = schemaUrl(origin.resource.schemaUrl);
  }

  /** Resolves once the resource's attributes are final (resource detection may still be running at start-up). */
  static async settled(origin: SpanOrigin, timeoutMs = 10_000): Promise<OtlpEnvelope> {
    if (origin.resource.asyncAttributesPending) {
      // Bounded: a detector that never settles must not hold every later export behind this one.
      let timer: NodeJS.Timeout | undefined;
      const waited = Promise.resolve(origin.resource.waitForAsyncAttributes?.());
      await Promise.race([
        waited,
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`resource detection did not settle within ${timeoutMs} ms`)), timeoutMs))),
      ]).finally(() => clearTimeout(timer));
    }
    return new OtlpEnvelope(origin);
  }

  /** The request's bytes before and after `spansBytes` bytes of spans (ScopeSpans.spans fields). */
  wrap(spansBytes: number): { head: Buffer; tail: Buffer } {
    const scopeSpans = this.scope.length + spansBytes + this.scopeTail.length;
    const resourceSpans = this.resource.length + 1 + varintSize(scopeSpans) + scopeSpans + this.resourceTail.length;
    const w = new ProtobufWriter(this.resource.length + this.scope.length + 16);
    w.tag(1, WIRE.bytes);
    w.varint(resourceSpans);
    w.ensure(this.resource.length);
    this.resource.copy(w.buf, w.pos);
    w.pos += this.resource.length;
    w.tag(2, WIRE.bytes);
    w.varint(scopeSpans);
    w.ensure(this.scope.length);
    this.scope.copy(w.buf, w.pos);
    w.pos += this.scope.length;
    return { head: w.bytes(), tail: Buffer.concat([this.scopeTail, this.resourceTail]) };
  }
}

/** A schema_url field (3 in both ScopeSpans and ResourceSpans), or nothing. */
function schemaUrl(url: string | undefined): Buffer {
  if (!url) return Buffer.alloc(0);
  const w = new ProtobufWriter(url.length * 3 + 8);
  w.tag(3, WIRE.bytes);
  w.string(url);
  return Buffer.from(w.bytes());
}

function varintSize(n: number): number {
  return n < 1 << 7 ? 1 : n < 1 << 14 ? 2 : n < 1 << 21 ? 3 : n < 1 << 28 ? 4 : 5;
}
