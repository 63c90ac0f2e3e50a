import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { toError, WebhookError } from '../domain/errors.js';
import { statusOf } from './errors.js';
import { securityHeaders } from './registerSecurityHeaders.js';

let headerLines: string | undefined;

/** The security headers every other answer carries, as header lines: this answer is written on the socket. */
function securityHeaderLines(): string {
  headerLines ??= Object.entries(securityHeaders()).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  return headerLines;
}

/** What answerClientError told each connection it closed (weak: gone with the socket). */
const answered = new WeakMap<Socket, WebhookError>();

/** The error answered on a connection that Node's HTTP parser gave up on, if any. */
export function clientErrorOf(socket: Socket | null | undefined): WebhookError | undefined {
  return socket ? answered.get(socket) : undefined;
}

/** A client that closed its connection before its request was complete. */
export function clientAborted(cause?: unknown): WebhookError {
  return new WebhookError('WH_ERR_CLIENT_ABORTED', 'The connection closed before the whole request was received: send the complete request.', { cause });
}

function toClientError(err: Error & { code?: string }): WebhookError {
  // The parser reached the end of the stream inside a request: the client hung up mid-request.
  if (err.code === 'HPE_INVALID_EOF_STATE') return clientAborted(err);
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return new WebhookError(
      'WH_ERR_REQUEST_TIMEOUT',
      'The request was not received in time (HEADERS_TIMEOUT_MS for the headers, REQUEST_TIMEOUT_MS for the whole request): send it without pauses.',
    );
  }
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    return new WebhookError('WH_ERR_HEADERS_TOO_LARGE', 'The request headers are too large: send fewer or shorter headers.');
  }
  // HPE_* codes name the parser's complaint (HPE_INVALID_CHUNK_SIZE, HPE_INVALID_METHOD, ...); nothing else is echoed.
  const reason = err.code && /^HPE_[A-Z_]+$/.test(err.code) ? ` (${err.code})` : '';
  return new WebhookError('WH_ERR_BAD_REQUEST', `The HTTP request could not be parsed${reason}: send a well-formed HTTP/1.1 request.`);
}

/**
 * Fastify's clientErrorHandler: answers what Node's HTTP parser refuses (a malformed request line, headers or
 * chunked body; a sender slower than HEADERS_TIMEOUT_MS / REQUEST_TIMEOUT_MS) with our error codes, then closes
 * the connection. The code is kept for the socket, so a webhook whose body was cut short this way is recorded
 * with it (a client fault: `rejected`), not as an unknown read error.
 */
export function answerClientError(this: FastifyInstance, thrown: Error, socket: Socket): void {
  const err = toError(thrown) as Error & { code?: string };
  // The client reset the connection: there is nobody to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const error = toClientError(err);
  answered.set(socket, error);
  this.log.debug({ code: err.code, answered: error.code }, 'client error');
  if (socket.writable) {
    const body = JSON.stringify({ error: { code: error.code, message: error.message } });
    socket.write(
      `HTTP/1.1 ${statusOf(error)} ${STATUS_CODES[statusOf(error)]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `${securityHeaderLines()}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
