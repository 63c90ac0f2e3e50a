import { ATTR } from './attributes.js';
import type { FinishedWebhook, StageTiming } from './finishedWebhook.js';
import { formatIsoTime } from './formatIsoTime.js';
import { type Cut, isFlatAndStorable, makeStorable, makeStorableText } from './makeStorable.js';

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

/** A row of webhook_requests (snake_case, as the columns). */
export interface RequestRow {
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
  /**
   * SHA-256 of the whole payload (secret fields removed) before it was cut. Null when the payload is stored whole:
   * its digest is then that of its stored text, which the API's detail computes (getWebhookRecord).
   */
  payload_sha256: string | null;
  /** What was cut to keep the record storable and small, by API field name; null when nothing was. */
  truncation: Record<string, Cut> | null;
  stages: StoredStage[];
}

/** JSON text of a record's JSON columns, made on the way to the record (see serializeRecord). */
export type RecordJsonText = Partial<Record<'headers' | 'payload', string>>;

/** A webhook's row, and the JSON text of its JSON columns where it was already made. */
export interface RequestRecord extends RequestRow {
  /**
   * Made by makeWebhookRecord, which has this text on the way (makeStorable checks a value by its JSON): the
   * COPY tuple reuses it instead of writing each value's JSON a second time. Absent for other records.
   */
  jsonText?: RecordJsonText;
}

/**
 * A stage as stored in webhook_requests.stages (migration 0013): an array of its name, its start as whole µs from
 * the webhook's created_at, its duration in whole µs, then only what differs from the common case: its metadata (or
 * null), and for a failed stage its error message (or null) as a fifth element. The processing_stages view derives
 * the rest (its id, span id, started_at, completed_at, status, trace id, and the times in ms), so the API shows the
 * same stage as before. Against 0009's objects with keys and a span id, a record is about 340 bytes smaller (1,122
 * to 780 for the bench's mix) and Postgres's COPY of a row 0.7 µs cheaper (8.3 to 7.6 µs); whole µs rather than
 * fractional ms (the same precision) make JSON.stringify of a webhook's stages 0.4 µs cheaper (1.1 to 0.7 µs).
 * See docs/benchmarks.md, seventeenth round.
 */
export type StoredStage =
  | [stage: string, offsetUs: number, durationUs: number]
  | [stage: string, offsetUs: number, durationUs: number, metadata: Record<string, unknown> | null]
  | [stage: string, offsetUs: number, durationUs: number, metadata: Record<string, unknown> | null, errorMessage: string | null];

/** In a stage's metadata: what was cut from it, as `metadata:size+text,errorMessage:text` (absent when nothing). */
export const STAGE_CUT_KEY = 'record.truncated';

const str = (v: unknown) => (typeof v === 'string' ? v : null);
/** Microsecond precision: the durations of sub-millisecond stages stay visible, the JSON stays short. */
const ms = (x: number) => Math.round(x * 1000) / 1000;

/**
 * What the record being made had cut, by field (its `truncation`), or null while nothing was. One record is made
 * at a time (synchronously): module state instead of a closure over a new object, made for every webhook.
 */
let cuts: Record<string, Cut> | null = null;

/** Text kept within `maxBytes`, noting what was cut under `name`. */
function keptText(name: string, value: unknown, maxBytes: number = RECORD_LIMITS.textBytes): string | null {
  if (typeof value !== 'string') return null;
  const kept = makeStorableText(value, maxBytes);
  if (kept.cut) (cuts ??= {})[name] = kept.cut;
  return kept.text;
}

/** The webhook's row, from the same compact result its metrics and stage spans are made from. */
export function makeWebhookRecord(w: FinishedWebhook): RequestRecord {
  const a = w.attributes;
  const extras = w.extras;
  const size = a[ATTR.payloadSize];
  const authValid = a[ATTR.authValid];
  const status = w.status;
  const limits = status === 'rejected' ? RECORD_LIMITS.rejected : RECORD_LIMITS.other;
  cuts = null;
  const payload = extras.payload === undefined ? undefined : makeStorable(extras.payload, { maxBytes: limits.payloadBytes, maxDepth: RECORD_LIMITS.maxDepth, digest: true });
  if (payload?.cut) (cuts ??= {}).payload = payload.cut;
  const headers = makeStorable(extras.headers ?? {}, { maxBytes: limits.headersBytes, maxDepth: 2 });
  if (headers.cut) (cuts ??= {}).headers = headers.cut;
  const stages: StoredStage[] = new Array(w.stages.length);
  for (let i = 0; i < stages.length; i++) stages[i] = storedStageOf(w.stages[i]!, w.startMs);
  const record: RequestRecord = {
    id: w.webhookId,
    created_at: formatIsoTime(w.startMs),
    source_ip: keptText('sourceIp', a[ATTR.clientAddress]),
    user_agent: keptText('userAgent', a[ATTR.userAgent]),
    headers: headers.value as Record<string, string>,
    payload: payload?.value ?? null,
    payload_size: typeof size === 'number' ? size : 0,
    signature: keptText('signature', a[ATTR.authScheme]),
    signature_valid: typeof authValid === 'boolean' ? authValid : null,
    processing_time_ms: ms(w.endMs - w.startMs),
    status,
    http_status: w.httpStatus,
    error_code: keptText('errorCode', a[ATTR.errorCode]),
    error_message: keptText('errorMessage', a[ATTR.errorMessage]),
    error_stack: keptText('errorStack', extras.errorStack, RECORD_LIMITS.stackBytes),
    signal_id: str(a[ATTR.signalId]),
    outcome: keptText('outcome', a[ATTR.outcome]),
    decline_reason: keptText('declineReason', a[ATTR.declineReason]),
    ticker: keptText('ticker', a[ATTR.ticker]),
    action: keptText('action', a[ATTR.action]),
    strategy: keptText('strategy', a[ATTR.strategy]),
    trace_id: w.traceId,
    replay_of: str(a[ATTR.replayOf]),
    payload_sha256: extras.payloadSha256 ?? payload?.sha256 ?? null,
    truncation: null,
    stages,
    jsonText: { headers: headers.json, payload: payload?.json },
  };
  // Read after every field above has had its say (object literal values are evaluated in order).
  record.truncation = cuts;
  cuts = null;
  return record;
}

/** The attributes a stage span carries besides its metadata: what makes it a stage of this webhook. */
export function stageMetadataOf(s: StageTiming): Record<string, unknown> | undefined {
  if (!s.failed || !s.errorCode || s.stage === 'failed') return s.attributes;
  return { ...s.attributes, [ATTR.errorType]: s.errorCode };
}

/** A stage's metadata is our own attributes, some of them from the alert: cleaned and bounded like the rest. */
function storedStageOf(s: StageTiming, webhookStartMs: number): StoredStage {
  const offsetUs = Math.round((s.startMs - webhookStartMs) * 1000);
  const durationUs = Math.round((s.endMs - s.startMs) * 1000);
  const raw = stageMetadataOf(s);
  const metadata = raw === undefined ? undefined : isFlatAndStorable(raw, RECORD_LIMITS.stageMetadataBytes) ? { value: raw, cut: null } : makeStorable(raw, { maxBytes: RECORD_LIMITS.stageMetadataBytes, maxDepth: 2 });
  const message = s.failed && s.errorMessage !== undefined ? makeStorableText(s.errorMessage, RECORD_LIMITS.textBytes) : undefined;
  let kept = (metadata?.value ?? null) as Record<string, unknown> | null;
  if (metadata?.cut || message?.cut) {
    const cuts = [...(metadata?.cut ? [`metadata:${metadata.cut.reasons.join('+')}`] : []), ...(message?.cut ? [`errorMessage:${message.cut.reasons.join('+')}`] : [])];
    kept = { ...kept, [STAGE_CUT_KEY]: cuts.join(',') };
  }
  if (s.failed) return [s.stage, offsetUs, durationUs, kept, message?.text ?? null];
  return kept === null ? [s.stage, offsetUs, durationUs] : [s.stage, offsetUs, durationUs, kept];
}
