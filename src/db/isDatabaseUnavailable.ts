import { sqlStateOf } from './sqlStateOf.js';

/**
 * Whether a query failed because the database did not answer in time or could not be reached, not because of the
 * query or its data: cancelled at the statement timeout (57014), a connection exception (class 08 but 08P01), the server
 * shutting down or not accepting connections (57P01-57P03), too many connections (53300); or, from pg and pg-pool,
 * which give these no SQLSTATE, no connection within the pool's bound, a connection lost, no answer within the
 * client's bound, or a socket error.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const state = sqlStateOf(err);
  if (state !== undefined) {
    if (/^[0-9A-Z]{5}$/.test(state)) return state === '57014' || CONNECTION_STATES.has(state) || /^57P0[123]$/.test(state) || state === '53300';
    return SOCKET_ERRORS.has(state);
  }
  const message = err instanceof Error ? err.message : '';
  return CLIENT_MESSAGES.test(message);
}

/** Class 08 but 08P01 (protocol_violation: a bug of ours, such as a statement given the wrong number of parameters). */
const CONNECTION_STATES = new Set(['08000', '08001', '08003', '08004', '08006']);
const SOCKET_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);
const CLIENT_MESSAGES = /^(timeout exceeded when trying to connect|Connection terminated|Query read timeout|Client has encountered a connection error)/;
