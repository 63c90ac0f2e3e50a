import type { Span } from '@opentelemetry/api';

/**
 * What the Postgres record keeps but the exported span must not carry (too large for a span, and a trace
 * backend is no place for payloads): the redacted headers and payload, and an internal error's stack.
 * Keyed by the span object, so it is collected with it.
 */
export interface RecordExtras {
  headers?: Record<string, string>;
  payload?: unknown;
  /** Digest of the whole payload when `payload` is only its head (a body that could not be parsed). */
  payloadSha256?: string;
  errorStack?: string;
}

const extras = new WeakMap<object, RecordExtras>();

export function setRecordExtras(span: Span, value: RecordExtras): void {
  extras.set(span, value);
}

export function getRecordExtras(span: object): RecordExtras | undefined {
  return extras.get(span);
}
