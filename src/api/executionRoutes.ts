import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import type { Pool } from '../db/makePool.js';
import { executionJson } from './executionJson.js';
import { listExecutions } from './listExecutions.js';
import { listPositions, positionJson } from './listPositions.js';
import { parseQuery } from './parseQuery.js';
import { tickerFilter } from './filterText.js';

const listQuery = z.object({
  ticker: tickerFilter.optional(),
  outcome: z.enum(['filled', 'forwarded', 'failed']).optional(),
  cursor: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

/** The paper book and the execution log. */
export function registerExecutionRoutes(app: FastifyInstance, deps: { pool: Pool; requireAdmin: preHandlerAsyncHookHandler }): void {
  app.get('/api/positions', { preHandler: deps.requireAdmin }, async () => ({
    positions: (await listPositions(deps.pool)).map(positionJson),
  }));

  app.get('/api/executions', { preHandler: deps.requireAdmin }, async (request) => {
    const filter = parseQuery(listQuery, request.query);
    const rows = await listExecutions(deps.pool, filter);
    const last = rows.at(-1);
    return { executions: rows.map(executionJson), nextCursor: rows.length === filter.limit && last ? last.id : null };
  });
}
