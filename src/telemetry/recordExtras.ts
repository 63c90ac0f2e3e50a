/**
 * What the Postgres record keeps but the exported span must not carry (too large for a span, and a trace
 * backend is no place for payloads): the redacted headers and payload, and an internal error's stack. Handed
 * to the record with the webhook's compact result (FinishedWebhook), never set on a span.
 */
export interface RecordExtras {
  headers?: Record<string, string>;
  payload?: unknown;
  /** Digest of the whole payload when `payload` is only its head (a body that could not be parsed). */
  payloadSha256?: string;
  errorStack?: string;
}
