import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import type { Pool } from '../db/makePool.js';
import { SIGNAL_STATUSES } from '../domain/types.js';
import { WebhookError } from '../domain/errors.js';
import { getSignal } from './getSignal.js';
import { listExecutions } from './listExecutions.js';
import { executionJson } from './executionJson.js';
import { listSignals } from './listSignals.js';
import { parseQuery } from './parseQuery.js';
import { signalJson } from './signalJson.js';
import { listSignalRetries } from './listSignalRetries.js';
import { retryFailedSignals } from './retryFailedSignals.js';
import { type RetryDeps, retrySignal } from './retrySignal.js';
import { type SettleDeps, settleSignal } from './settleSignal.js';
import { toStorableText } from '../domain/storableText.js';
import { tickerFilter } from './filterText.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const listQuery = z.object({
  status: z.enum(SIGNAL_STATUSES).optional(),
  ticker: tickerFilter.optional(),
  since: z.iso.datetime({ offset: true }).transform((s) => new Date(s)).optional(),
  cursor: z.string().regex(UUID, 'must be a signal id (nextCursor of the previous page)').optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const dryRunQuery = z.object({ dryRun: z.enum(['true', 'false']).default('false').transform((v) => v === 'true') });
const isoDate = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
const bulkRetryQuery = dryRunQuery.extend({
  since: isoDate,
  until: isoDate.optional(),
  /** Bounded: each signal is a statement (and a trace); `more` in the answer says when to call again. */
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

const settleQuery = z.object({
  outcome: z.enum(['executed', 'failed'], { message: 'must be executed (the order is at the target) or failed (it is not)' }),
  note: z
    .string()
    .trim()
    .min(1, 'say what the target showed (1-500 characters): it is kept with the execution')
    .max(500)
    .transform(toStorableText),
});

export function registerSignalsRoutes(
  app: FastifyInstance,
  deps: { pool: Pool; requireAdmin: preHandlerAsyncHookHandler; retry: RetryDeps; settle: SettleDeps },
): void {
  app.get('/api/signals', { preHandler: deps.requireAdmin }, async (request) => {
    const filter = parseQuery(listQuery, request.query);
    const rows = await listSignals(deps.pool, filter);
    const last = rows.at(-1);
    return { signals: rows.map(signalJson), nextCursor: rows.length === filter.limit && last ? last.id : null };
  });

  app.get<{ Params: { id: string } }>('/api/signals/:id', { preHandler: deps.requireAdmin }, async (request) => {
    const { id } = request.params;
    if (!UUID.test(id)) throw new WebhookError('WH_ERR_BAD_REQUEST', 'The signal id must be a UUID.');
    const row = await getSignal(deps.pool, id);
    if (!row) throw new WebhookError('WH_ERR_NOT_FOUND', `No signal ${id}.`);
    const [executions, retries] = await Promise.all([listExecutions(deps.pool, { signalId: id, limit: 100 }), listSignalRetries(deps.pool, id)]);
    return { signal: signalJson(row), executions: executions.map(executionJson), retries };
  });

  // Recovery after an outage (a broker down): one failed signal, or every one failed since a time.
  app.post('/api/signals/retry', { preHandler: deps.requireAdmin }, async (request) => {
    const { since, until, limit, dryRun } = parseQuery(bulkRetryQuery, request.query);
    return retryFailedSignals(deps.retry, { since, until, limit }, { dryRun, clientAddress: request.ip });
  });

  app.post<{ Params: { id: string } }>('/api/signals/:id/retry', { preHandler: deps.requireAdmin }, async (request) => {
    const { id } = request.params;
    if (!UUID.test(id)) throw new WebhookError('WH_ERR_BAD_REQUEST', 'The signal id must be a UUID.');
    const { dryRun } = parseQuery(dryRunQuery, request.query);
    return { dryRun, ...(await retrySignal(deps.retry, id, { dryRun, clientAddress: request.ip })) };
  });

  // A stuck signal (see countStuckSignals), settled by hand once the operator has checked the target.
  app.post<{ Params: { id: string } }>('/api/signals/:id/settle', { preHandler: deps.requireAdmin }, async (request) => {
    const { id } = request.params;
    if (!UUID.test(id)) throw new WebhookError('WH_ERR_BAD_REQUEST', 'The signal id must be a UUID.');
    const { outcome, note } = parseQuery(settleQuery, request.query);
    return settleSignal(deps.settle, id, { outcome, note, clientAddress: request.ip });
  });
}
