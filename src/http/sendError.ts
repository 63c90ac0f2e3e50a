import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { clientAborted, clientErrorOf } from './answerClientError.js';
import { isDatabaseUnavailable } from '../db/isDatabaseUnavailable.js';
import { WebhookError, toError } from '../domain/errors.js';
import { type ErrorBody, statusOf } from './errors.js';

/** Errors Fastify raises before our handler runs, mapped onto our codes. */
const FASTIFY_CODES: Record<string, (err: Error & { code?: string }) => WebhookError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () =>
    new WebhookError('WH_ERR_PAYLOAD_TOO_LARGE', 'The body is larger than BODY_LIMIT_BYTES: shorten the alert message.'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () =>
    new WebhookError('WH_ERR_UNSUPPORTED_MEDIA_TYPE', 'Send application/json or text/plain.'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () =>
    new WebhookError('WH_ERR_MALFORMED_BODY', 'Content-Length does not match the body.'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => new WebhookError('WH_ERR_MALFORMED_BODY', 'The body is empty.'),
  FST_ERR_CTP_INVALID_TYPE: () => new WebhookError('WH_ERR_UNSUPPORTED_MEDIA_TYPE', 'Send application/json or text/plain.'),
  FST_ERR_BAD_URL: () =>
    new WebhookError('WH_ERR_BAD_REQUEST', 'The URL is not valid: every % in its path must be followed by two hexadecimal digits.'),
  FST_ERR_MAX_PARAM_LENGTH: () => new WebhookError('WH_ERR_BAD_REQUEST', 'A segment of the URL\'s path is too long: check the URL.'),
};

/** Turns anything thrown into a WebhookError; unknown errors become WH_ERR_INTERNAL with an error id. */
export function toWebhookError(thrown: unknown): WebhookError {
  if (thrown instanceof WebhookError) return thrown;
  const err = toError(thrown) as Error & { code?: string; statusCode?: number };
  const mapped = err.code ? FASTIFY_CODES[err.code] : undefined;
  if (mapped) return mapped(err);
  // Fastify gives a body stream's errors status 400: the client hung up mid-body (ECONNRESET "aborted"), or
  // Node's parser refused the body. Either is the client's fault, so a 4xx rejection, never a failure.
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    if (err.code === 'ECONNRESET') return clientAborted(err);
    return new WebhookError('WH_ERR_BAD_REQUEST', 'The request could not be read: send a well-formed HTTP/1.1 request.', { cause: err });
  }
  // A read of the admin API that outlasted the statement timeout (a long window over millions of records) or met the
  // database down is the database's state, not a fault of ours: 503 saying so, where it was 500 WH_ERR_INTERNAL.
  if (isDatabaseUnavailable(err)) {
    return new WebhookError(
      'WH_ERR_UNAVAILABLE',
      'The database did not answer in time (DB_TIMEOUT_MS) or could not be reached: try again; for a long window or a large limit, ask for less.',
      { cause: err },
    );
  }
  return new WebhookError('WH_ERR_INTERNAL', 'Internal error. Quote the error id when reporting it.', {
    cause: err,
    details: undefined,
  });
}

/** The error a failure is answered with, and its status (for a trace that must record the answer it ends with). */
export function answerFor(thrown: unknown): { error: WebhookError; httpStatus: number } {
  const error = toWebhookError(thrown);
  return { error, httpStatus: statusOf(error) };
}

/** An error answer's body: its code, message and details, and the webhook's id. */
export function errorBodyOf(error: WebhookError, webhookId: string): ErrorBody {
  const body: ErrorBody = { error: { code: error.code, message: error.message } };
  if (error.details !== undefined) body.error.details = error.details;
  body.webhookId = webhookId;
  return body;
}

/**
 * A fault of ours behind an error answer is logged with its cause: an internal error under an error id, which
 * the body carries for the sender to quote; the database being unavailable as such. Other errors are the sender's.
 */
export function logFault(error: WebhookError, body: ErrorBody, log: { error(fields: object, message: string): void }): void {
  if (error.code === 'WH_ERR_INTERNAL') {
    const errorId = randomUUID();
    body.error.errorId = errorId;
    log.error({ err: error.cause ?? error, errorId }, 'internal error');
  } else if (error.code === 'WH_ERR_UNAVAILABLE') {
    log.error({ err: error.cause ?? error }, 'database unavailable; answered 503');
  } else if (error.code === 'WH_ERR_OUTCOME_UNKNOWN') {
    log.error({ err: error.cause ?? error, details: error.details }, 'whether the signal was stored is unknown; answered 503');
  }
}

/** Sends the error answer: code, message, details, the webhook id; never a stack or an internal message. */
export function sendError(request: FastifyRequest, reply: FastifyReply, thrown: unknown): FastifyReply {
  let error = toWebhookError(thrown);
  // When Node's parser closed the connection (timeout, bad chunked body), its reason is the precise one.
  if (error.code === 'WH_ERR_CLIENT_ABORTED' || error.code === 'WH_ERR_BAD_REQUEST') error = clientErrorOf(request.raw.socket) ?? error;
  request.webhookError = error;
  // A replay answers with the id of the new webhook it created.
  const body = errorBodyOf(error, (error as WebhookError & { webhookId?: string }).webhookId ?? request.id);
  logFault(error, body, request.log);
  if (error.headers) void reply.headers(error.headers);
  return reply.code(statusOf(error)).send(body);
}
