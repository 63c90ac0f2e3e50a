import type { Link } from '@opentelemetry/api';
import { ATTR } from './attributes.js';
import type { FinishedWebhook, StageTiming } from './finishedWebhook.js';
import { stageMetadataOf } from './makeWebhookRecord.js';
import { decodeHex, ProtobufWriter, WIRE } from './protobufWriter.js';
import { writeOtlpAttributes, writeOtlpKeyValue } from './writeOtlpAttributes.js';

/** OTLP Span.SpanKind (the API's kind + 1). */
const KIND = { internal: 1, server: 2 } as const;
/** OTLP Status.StatusCode. */
const STATUS_ERROR = 2;
/** Span.flags bits: the W3C trace flags, and whether the parent's is_remote is known (and true). */
const FLAGS_HAS_IS_REMOTE = 0x100;
const FLAGS_IS_REMOTE = 0x200;
const SAMPLED = 1;

/**
 * A finished webhook's trace as OTLP Span messages (opentelemetry/proto/trace/v1/trace.proto), each written as
 * field 2 (`spans`) of the ScopeSpans message being written: the root span and one span per stage, from the
 * numbers and strings of the compact result, with no span object in between. Names, kinds, ids, parents, times,
 * statuses, flags, links and attributes are those the OpenTelemetry SDK wrote for the same webhook when its root
 * was an SDK span and its stages span objects (makeWebhookSpans); tests/encodeOtlpSpans.test.ts decodes both and
 * compares. About 5 µs a webhook of 6 spans, where the SDK's serializer on span objects took 21-29 µs. Returns
 * the number of spans written.
 */
export function encodeOtlpSpans(w: FinishedWebhook, out: ProtobufWriter): number {
  // The trace id (in every span) and the root's span id (every stage's parent), decoded once.
  if (w.traceId.length !== 32 || w.spanId.length !== 16) throw new Error(`not a hex id: ${JSON.stringify([w.traceId, w.spanId])}`);
  decodeHex(w.traceId, ids, 0);
  decodeHex(w.spanId, ids, 16);
  webhookIdKv.pos = 0;
  writeOtlpKeyValue(webhookIdKv, 9, ATTR.webhookId, w.webhookId);
  writeRoot(w, out);
  for (const s of w.stages) writeStage(w, s, out);
  return 1 + w.stages.length;
}

/** The current webhook's trace id (bytes 0-15) and root span id (16-23). */
const ids = new Uint8Array(24);

/**
 * The attributes that make a span a stage of its webhook, encoded once and copied into each stage span: the
 * webhook's id once per webhook, `webhook.record` and each stage's `webhook.stage` once per process. They are three
 * of a stage span's five or six attributes: `node dist/bench/consumerCost.js` put the OTLP encoding at 5.0 µs a
 * webhook this way, 5.4-5.7 with each written field by field.
 */
const webhookIdKv = new ProtobufWriter(256);
const recordStageKv = encodedKeyValue(ATTR.record, 'stage');
const stageKvs = new Map<string, Uint8Array>();

function encodedKeyValue(key: string, value: string): Uint8Array {
  const w = new ProtobufWriter(64);
  writeOtlpKeyValue(w, 9, key, value);
  return w.bytes();
}

/** `webhook.stage` of a stage span, encoded once per stage name (the Stage type's few). */
function stageKv(stage: string): Uint8Array {
  let kv = stageKvs.get(stage);
  if (kv === undefined) {
    kv = encodedKeyValue(ATTR.stage, stage);
    if (stageKvs.size < 64) stageKvs.set(stage, kv);
  }
  return kv;
}

function writeRoot(w: FinishedWebhook, out: ProtobufWriter): void {
  out.tag(2, WIRE.bytes);
  const span = out.begin2();
  out.tag(1, WIRE.bytes);
  out.copy(ids, 0, 16);
  out.tag(2, WIRE.bytes);
  out.copy(ids, 16, 8);
  const parent = w.parent;
  const traceState = parent?.traceState?.serialize();
  if (traceState) {
    out.tag(3, WIRE.bytes);
    out.string(traceState);
  }
  if (parent) {
    out.tag(4, WIRE.bytes);
    out.hexBytes(parent.spanId);
  }
  out.tag(5, WIRE.bytes);
  out.string(w.name);
  out.tag(6, WIRE.varint);
  out.varint(KIND.server);
  // As the SDK ends a span whose end is before its start: at its start.
  writeTimes(out, w.startMs, w.endMs < w.startMs ? w.startMs : w.endMs);
  writeOtlpAttributes(out, 9, w.attributes);
  if (w.links) for (const link of w.links) writeLink(out, link);
  if (w.status === 'failed') writeError(out, w.errorMessage ?? w.errorCode ?? 'failed');
  out.tag(16, WIRE.fixed32);
  out.fixed32(SAMPLED | FLAGS_HAS_IS_REMOTE | (parent?.isRemote ? FLAGS_IS_REMOTE : 0));
  out.end2(span);
}

function writeStage(w: FinishedWebhook, s: StageTiming, out: ProtobufWriter): void {
  out.tag(2, WIRE.bytes);
  const span = out.begin2();
  out.tag(1, WIRE.bytes);
  out.copy(ids, 0, 16);
  out.tag(2, WIRE.bytes);
  out.hexBytes(s.spanId);
  out.tag(4, WIRE.bytes);
  out.copy(ids, 16, 8);
  out.tag(5, WIRE.bytes);
  out.string(s.stage);
  out.tag(6, WIRE.varint);
  out.varint(KIND.internal);
  writeTimes(out, s.startMs, s.endMs);
  // What makes it a stage of this webhook, then its metadata (which wins a clash, as in makeWebhookSpans).
  const metadata = stageMetadataOf(s);
  if (!metadata || !Object.hasOwn(metadata, ATTR.record)) out.raw(recordStageKv, recordStageKv.length);
  if (!metadata || !Object.hasOwn(metadata, ATTR.stage)) {
    const kv = stageKv(s.stage);
    out.raw(kv, kv.length);
  }
  if (!metadata || !Object.hasOwn(metadata, ATTR.webhookId)) out.raw(webhookIdKv.buf, webhookIdKv.pos);
  if (metadata) writeOtlpAttributes(out, 9, metadata);
  if (s.failed) writeError(out, s.errorMessage ?? '');
  out.tag(16, WIRE.fixed32);
  out.fixed32(SAMPLED | FLAGS_HAS_IS_REMOTE);
  out.end2(span);
}

/** Span.links (field 13): the linked span's ids, trace state, attributes and flags. */
function writeLink(out: ProtobufWriter, link: Link): void {
  const c = link.context;
  out.tag(13, WIRE.bytes);
  const at = out.begin();
  out.tag(1, WIRE.bytes);
  out.hexBytes(c.traceId);
  out.tag(2, WIRE.bytes);
  out.hexBytes(c.spanId);
  const traceState = c.traceState?.serialize();
  if (traceState) {
    out.tag(3, WIRE.bytes);
    out.string(traceState);
  }
  if (link.attributes) writeOtlpAttributes(out, 4, link.attributes);
  out.tag(6, WIRE.fixed32);
  out.fixed32((c.traceFlags & 0xff) | FLAGS_HAS_IS_REMOTE | (c.isRemote ? FLAGS_IS_REMOTE : 0));
  out.end(at);
}

/** Span.status (field 15) with code ERROR; the message only when there is one (as the SDK writes it). */
function writeError(out: ProtobufWriter, message: string): void {
  out.tag(15, WIRE.bytes);
  const at = out.begin();
  if (message) {
    out.tag(2, WIRE.bytes);
    out.string(message);
  }
  out.tag(3, WIRE.varint);
  out.varint(STATUS_ERROR);
  out.end(at);
}

/** start_time_unix_nano (7) and end_time_unix_nano (8). */
function writeTimes(out: ProtobufWriter, startMs: number, endMs: number): void {
  out.tag(7, WIRE.fixed64);
  writeUnixNanos(out, startMs);
  out.tag(8, WIRE.fixed64);
  writeUnixNanos(out, endMs);
}

/**
 * Epoch milliseconds (fractional) as fixed64 nanoseconds, rounded as the SDK rounds them (millisToHrTime: whole
 * seconds, then the rest rounded to the nanosecond). The nanoseconds exceed 2^53, so the 64 bits are put together
 * from exact parts: 10^9 = 2^9 × 1953125, and seconds × 1953125 < 2^53 (until the year 4500). Straight number
 * arithmetic: with `%` and writeUInt32LE this took 80 ns a timestamp, 12 timestamps a webhook.
 */
function writeUnixNanos(out: ProtobufWriter, ms: number): void {
  const seconds = Math.trunc(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6); // ms - seconds × 1000 is exact: ms % 1000
  const q = seconds * 1953125;
  const qHigh = Math.floor(q / 8388608); // q = qHigh × 2^23 + qLow
  let low = (q - qHigh * 8388608) * 512 + nanos; // < 2^32 + 2^30
  let high = qHigh;
  if (low >= 4294967296) {
    low -= 4294967296;
    high += 1;
  }
  out.fixed64(low, high);
}
