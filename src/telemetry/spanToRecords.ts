import { hrTimeToMilliseconds } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { uuidv7 } from 'uuidv7';
import { ATTR } from './attributes.js';
import { getRecordExtras } from './recordExtras.js';

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

const INTERNAL_STAGE_ATTRIBUTES = new Set<string>([ATTR.record, ATTR.stage, ATTR.webhookId]);

const str = (v: unknown) => (typeof v === 'string' ? v : null);
const iso = (ms: number) => new Date(ms).toISOString();
const durationMs = (span: ReadableSpan) => Math.round(hrTimeToMilliseconds(span.duration) * 1000) / 1000;

export function requestRecordOf(span: ReadableSpan): RequestRecord {
  const a = span.attributes;
  const extras = getRecordExtras(span);
  return {
    id: String(a[ATTR.webhookId]),
    created_at: iso(hrTimeToMilliseconds(span.startTime)),
    source_ip: str(a[ATTR.clientAddress]),
    user_agent: str(a[ATTR.userAgent]),
    headers: extras?.headers ?? {},
    payload: extras?.payload ?? null,
    payload_size: typeof a[ATTR.payloadSize] === 'number' ? (a[ATTR.payloadSize] as number) : 0,
    signature: str(a[ATTR.authScheme]),
    signature_valid: typeof a[ATTR.authValid] === 'boolean' ? (a[ATTR.authValid] as boolean) : null,
    processing_time_ms: durationMs(span),
    status: String(a[ATTR.status] ?? 'failed'),
    http_status: Number(a[ATTR.httpStatus] ?? 0),
    error_code: str(a[ATTR.errorCode]),
    error_message: str(a[ATTR.errorMessage]),
    error_stack: extras?.errorStack ?? null,
    signal_id: str(a[ATTR.signalId]),
    outcome: str(a[ATTR.outcome]),
    decline_reason: str(a[ATTR.declineReason]),
    ticker: str(a[ATTR.ticker]),
    action: str(a[ATTR.action]),
    strategy: str(a[ATTR.strategy]),
    trace_id: span.spanContext().traceId,
    replay_of: str(a[ATTR.replayOf]),
  };
}

export function stageRecordOf(span: ReadableSpan): StageRecord {
  const metadata: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(span.attributes)) if (!INTERNAL_STAGE_ATTRIBUTES.has(k)) metadata[k] = v;
  const started = hrTimeToMilliseconds(span.startTime);
  return {
    id: uuidv7(),
    webhook_id: String(span.attributes[ATTR.webhookId]),
    stage: String(span.attributes[ATTR.stage]),
    started_at: iso(started),
    completed_at: iso(hrTimeToMilliseconds(span.endTime)),
    duration_ms: durationMs(span),
    status: span.status.code === 2 ? 'failed' : 'completed',
    error_message: span.status.code === 2 ? (span.status.message ?? null) : null,
    metadata,
    trace_id: span.spanContext().traceId,
    span_id: span.spanContext().spanId,
  };
}
