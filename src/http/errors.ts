import type { ErrorCode, WebhookError } from '../domain/errors.js';

/**
 * The HTTP status each domain error code (src/domain/errors.ts) is answered with: here and nowhere else.
 */
export const ERROR_STATUS = {
  WH_ERR_RATE_LIMITED: 429,
  WH_ERR_IP_FORBIDDEN: 403,
  WH_ERR_AUTH_MISSING: 401,
  WH_ERR_AUTH_INVALID: 401,
  WH_ERR_PAYLOAD_TOO_LARGE: 413,
  WH_ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  WH_ERR_MALFORMED_BODY: 400,
  WH_ERR_INVALID_PAYLOAD: 422,
  WH_ERR_UNRESOLVED_PLACEHOLDER: 422,
  WH_ERR_UNKNOWN_ACTION: 422,
  WH_ERR_METHOD_NOT_ALLOWED: 405,
  WH_ERR_NOT_FOUND: 404,
  WH_ERR_BAD_REQUEST: 400,
  WH_ERR_CLIENT_ABORTED: 400,
  WH_ERR_REQUEST_TIMEOUT: 408,
  WH_ERR_HEADERS_TOO_LARGE: 431,
  WH_ERR_REPLAY_NOT_AUTHENTICATED: 409,
  WH_ERR_UNAUTHORIZED: 401,
  WH_ERR_CONFLICT: 409,
  WH_ERR_UNAVAILABLE: 503,
  WH_ERR_OUTCOME_UNKNOWN: 503,
  WH_ERR_OVERLOADED: 503,
  WH_ERR_SHUTTING_DOWN: 503,
  WH_ERR_INTERNAL: 500,
} as const satisfies Record<ErrorCode, number>;

/** The status an error is answered with. */
export function statusOf(error: WebhookError): number {
  return ERROR_STATUS[error.code];
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown; errorId?: string };
  webhookId?: string;
}
