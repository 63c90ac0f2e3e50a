import { hrTimeToMilliseconds } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { uuidv7 } from 'uuidv7';
import { ATTR } from './attributes.js';
import { type Cut, makeStorable, makeStorableText } from './makeStorable.js';
import { getRecordExtras } from './recordExtras.js';

/**
 * What one record may keep. A rejected request (a stranger can send 600 a minute, kept 30 days) keeps the first
 * KiB of its payload and 2 KiB of headers, with the payload's size and digest: about 3 KiB a record instead of up
 * to the 64 KiB body limit. Other requests keep up to 64 KiB (the default body limit: an accepted alert whole).
 * Nesting stops at 16 levels (TradingView's deepest template nests 3). Text columns keep 2 KiB, a stack 16 KiB.
 */
export const RECORD_LIMITS = {
  rejected: { payloadBytes: 1024, headersBytes: 2048 },
  other: { payloadBytes: 64 * 1024, headersBytes: 8 * 1024 },
  maxDepth: 16,
  textBytes: 2048,
  stackBytes: 16 * 1024,
  stageMetadataBytes: 4096,
} as const;

/** A row of webhook_requests (snake_case: written with jsonb_populate_recordset). */
export interface RequestRecord {
  id: string;
  created_at: string;
  source_ip: string | null;
  user_agent: string | null;
  headers: Record<string, string>;
  payload: unknown;
  payload_size: number;
  signature: string | null;
  signature_valid: boolean | null;
  processing_time_ms: number;
  status: string;
  http_status: number;
  error_code: string | null;
  error_message: string | null;
  error_stack: string | null;
  signal_id: string | null;
  outcome: string | null;
  decline_reason: string | null;
  ticker: string | null;
  action: string | null;
  strategy: string | null;
  trace_id: string;
  replay_of: string | null;
  /** SHA-256 of the whole payload (secret fields removed) before it was cut. */
  payload_sha256: string | null;
  /** What was cut to keep the record storable and small, by API field name; null when nothing was. */
  truncation: Record<string, Cut> | null;
}

/** A stage of a webhook: one element of webhook_requests.stages (read through the processing_stages view). */
export interface StageRecord {
  id: string;
  webhook_id: string;
  stage: string;
  started_at: string;
  completed_at: string;
  duration_ms: number;
  status: 'completed' | 'failed';
  error_message: string | null;
  metadata: Record<string, unknown>;
  trace_id: string;
  span_id: string;
}

/** In a stage's metadata: what was cut from it, as `metadata:size+text,errorMessage:text` (absent when nothing). */
export const STAGE_CUT_KEY = 'record.truncated';
const INTERNAL_STAGE_ATTRIBUTES = new Set<string>([ATTR.record, ATTR.stage, ATTR.webhookId]);

const str = (v: unknown) => (typeof v === 'string' ? v : null);
const iso = (ms: number) => new Date(ms).toISOString();
const durationMs = (span: ReadableSpan) => Math.round(hrTimeToMilliseconds(span.duration) * 1000) / 1000;

export function requestRecordOf(span: ReadableSpan): RequestRecord {
  const a = span.attributes;
  const extras = getRecordExtras(span);
  const status = String(a[ATTR.status] ?? 'failed');
  const limits = status === 'rejected' ? RECORD_LIMITS.rejected : RECORD_LIMITS.other;
  const truncation: Record<string, Cut> = {};
  const text = (name: string, value: string | null | undefined, maxBytes: number = RECORD_LIMITS.textBytes): string | null => {
    if (typeof value !== 'string') return null;
    const kept = makeStorableText(value, maxBytes);
    if (kept.cut) truncation[name] = kept.cut;
    return kept.text;
  };
  const attr = (name: string, key: string) => text(name, str(a[key]));
  const payload = extras?.payload === undefined ? undefined : makeStorable(extras.payload, { maxBytes: limits.payloadBytes, maxDepth: RECORD_LIMITS.maxDepth, digest: true });
  if (payload?.cut) truncation.payload = payload.cut;
  const headers = makeStorable(extras?.headers ?? {}, { maxBytes: limits.headersBytes, maxDepth: 2 });
  if (headers.cut) truncation.headers = headers.cut;
  return {
    id: String(a[ATTR.webhookId]),
    created_at: iso(hrTimeToMilliseconds(span.startTime)),
    source_ip: attr('sourceIp', ATTR.clientAddress),
    user_agent: attr('userAgent', ATTR.userAgent),
    headers: headers.value as Record<string, string>,
    payload: payload?.value ?? null,
    payload_size: typeof a[ATTR.payloadSize] === 'number' ? (a[ATTR.payloadSize] as number) : 0,
    signature: attr('signature', ATTR.authScheme),
    signature_valid: typeof a[ATTR.authValid] === 'boolean' ? (a[ATTR.authValid] as boolean) : null,
    processing_time_ms: durationMs(span),
    status,
    http_status: Number(a[ATTR.httpStatus] ?? 0),
    error_code: attr('errorCode', ATTR.errorCode),
    error_message: attr('errorMessage', ATTR.errorMessage),
    error_stack: text('errorStack', extras?.errorStack, RECORD_LIMITS.stackBytes),
    signal_id: str(a[ATTR.signalId]),
    outcome: attr('outcome', ATTR.outcome),
    decline_reason: attr('declineReason', ATTR.declineReason),
    ticker: attr('ticker', ATTR.ticker),
    action: attr('action', ATTR.action),
    strategy: attr('strategy', ATTR.strategy),
    trace_id: span.spanContext().traceId,
    replay_of: str(a[ATTR.replayOf]),
    payload_sha256: extras?.payloadSha256 ?? payload?.sha256 ?? null,
    truncation: Object.keys(truncation).length > 0 ? truncation : null,
  };
}

/** A stage's metadata is our own attributes, some of them from the alert: cleaned and bounded like the rest. */
export function stageRecordOf(span: ReadableSpan): StageRecord {
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(span.attributes)) if (!INTERNAL_STAGE_ATTRIBUTES.has(k)) raw[k] = v;
  const metadata = makeStorable(raw, { maxBytes: RECORD_LIMITS.stageMetadataBytes, maxDepth: 2 });
  const failed = span.status.code === 2;
  const message = failed && span.status.message !== undefined ? makeStorableText(span.status.message, RECORD_LIMITS.textBytes) : undefined;
  const cuts = [...(metadata.cut ? [`metadata:${metadata.cut.reasons.join('+')}`] : []), ...(message?.cut ? [`errorMessage:${message.cut.reasons.join('+')}`] : [])];
  const started = hrTimeToMilliseconds(span.startTime);
  return {
    id: uuidv7(),
    webhook_id: String(span.attributes[ATTR.webhookId]),
    stage: String(span.attributes[ATTR.stage]),
    started_at: iso(started),
    completed_at: iso(hrTimeToMilliseconds(span.endTime)),
    duration_ms: durationMs(span),
    status: failed ? 'failed' : 'completed',
    error_message: failed ? (message?.text ?? null) : null,
    metadata: cuts.length > 0 ? { ...(metadata.value as Record<string, unknown>), [STAGE_CUT_KEY]: cuts.join(',') } : (metadata.value as Record<string, unknown>),
    trace_id: span.spanContext().traceId,
    span_id: span.spanContext().spanId,
  };
}
