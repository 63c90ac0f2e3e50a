import type { Link, SpanContext } from '@opentelemetry/api';
import type { Stage, WebhookStatus } from '../domain/types.js';
import type { RecordExtras } from './recordExtras.js';

export type AttributeValue = string | number | boolean;

/** A stage of a finished webhook, as plain numbers and strings (times in ms since the epoch, fractional). */
export interface StageTiming {
  stage: Stage;
  startMs: number;
  endMs: number;
  /** The stage's span id (16 hex digits): in its record, and its span's id when the trace is exported. */
  spanId: string;
  failed: boolean;
  errorCode?: string;
  errorMessage?: string;
  /** The stage's own attributes (its record's metadata), when it has any. */
  attributes?: Record<string, AttributeValue>;
}

/**
 * Everything monitoring knows about one webhook once it is answered: the one compact result from which its
 * record, its metrics and (when the trace is exported) its OTLP spans are all made. Captured on the request
 * path as numbers, read by every consumer once, after the answer is decided.
 */
export interface FinishedWebhook {
  webhookId: string;
  traceId: string;
  /** The root span's id: the stage spans' parent. */
  spanId: string;
  /** Our export decision for the trace (the sampled flag of its spans and of the traceparent stored for the worker). */
  exported: boolean;
  /** The root span's name. */
  name: string;
  /** The caller's span (from its `traceparent`), the root's parent, when there is one. */
  parent?: SpanContext;
  /** The root span's links (a replay links to the webhook it replays). */
  links?: Link[];
  startMs: number;
  endMs: number;
  /** The root span's attributes, as set on it. */
  attributes: Record<string, AttributeValue>;
  status: WebhookStatus;
  httpStatus: number;
  outcome?: string;
  errorCode?: string;
  errorMessage?: string;
  stages: StageTiming[];
  extras: RecordExtras;
}
