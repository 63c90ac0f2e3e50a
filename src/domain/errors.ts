/**
 * Domain errors: a stable code, a message that tells the sender what to fix, optional details.
 * Every layer throws these; only the HTTP edge (src/http/errors.ts) knows which status each code is answered with.
 */

export const ERROR_CODES = [
  'WH_ERR_RATE_LIMITED',
  'WH_ERR_IP_FORBIDDEN',
  'WH_ERR_AUTH_MISSING',
  'WH_ERR_AUTH_INVALID',
  'WH_ERR_PAYLOAD_TOO_LARGE',
  'WH_ERR_UNSUPPORTED_MEDIA_TYPE',
  'WH_ERR_MALFORMED_BODY',
  'WH_ERR_INVALID_PAYLOAD',
  'WH_ERR_UNRESOLVED_PLACEHOLDER',
  'WH_ERR_UNKNOWN_ACTION',
  'WH_ERR_METHOD_NOT_ALLOWED',
  'WH_ERR_NOT_FOUND',
  'WH_ERR_BAD_REQUEST',
  'WH_ERR_CLIENT_ABORTED',
  'WH_ERR_REQUEST_TIMEOUT',
  'WH_ERR_HEADERS_TOO_LARGE',
  'WH_ERR_REPLAY_NOT_AUTHENTICATED',
  'WH_ERR_UNAUTHORIZED',
  'WH_ERR_CONFLICT',
  'WH_ERR_UNAVAILABLE',
  'WH_ERR_OUTCOME_UNKNOWN',
  'WH_ERR_OVERLOADED',
  'WH_ERR_SHUTTING_DOWN',
  'WH_ERR_INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Codes that mean "refused before processing" (status `rejected` in the monitoring records). */
export const REJECTION_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'WH_ERR_RATE_LIMITED',
  'WH_ERR_IP_FORBIDDEN',
  'WH_ERR_AUTH_MISSING',
  'WH_ERR_AUTH_INVALID',
  'WH_ERR_PAYLOAD_TOO_LARGE',
  'WH_ERR_UNSUPPORTED_MEDIA_TYPE',
  'WH_ERR_MALFORMED_BODY',
  'WH_ERR_INVALID_PAYLOAD',
  'WH_ERR_UNRESOLVED_PLACEHOLDER',
  'WH_ERR_UNKNOWN_ACTION',
  'WH_ERR_METHOD_NOT_ALLOWED',
  // A request the HTTP layer could not read is the client's doing (malformed, cut short, too slow), never ours.
  'WH_ERR_BAD_REQUEST',
  'WH_ERR_CLIENT_ABORTED',
  'WH_ERR_REQUEST_TIMEOUT',
  'WH_ERR_HEADERS_TOO_LARGE',
  // Refused unread while the service shuts down (a request pipelined behind another): not a fault of ours that
  // should count against the error budget, and a caller must not be able to page anyone with it.
  'WH_ERR_SHUTTING_DOWN',
]);

export class WebhookError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;
  /** Extra response headers (Retry-After, Allow). */
  readonly headers?: Record<string, string>;

  constructor(code: ErrorCode, message: string, options: { details?: unknown; headers?: Record<string, string>; cause?: unknown } = {}) {
    // No stack trace: a WebhookError is an answer (a 4xx, a 503 of load shedding), not a fault to debug, and
    // capturing the stack was the costliest step of refusing a webhook (14 µs of 16,000 refusals a second on the
    // bench's overload profile). A fault keeps its own stack as the `cause`.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message, { cause: options.cause });
    Error.stackTraceLimit = limit;
    this.name = 'WebhookError';
    this.code = code;
    this.details = options.details;
    this.headers = options.headers;
  }
}

/** Normalises anything thrown into an Error, so every catch can log and record it the same way. */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  if (typeof thrown === 'string') return new Error(thrown);
  try {
    return new Error(`Non-error thrown: ${JSON.stringify(thrown)}`);
  } catch {
    return new Error('Non-error thrown');
  }
}
