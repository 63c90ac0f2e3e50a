import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import type { Pool } from '../db/makePool.js';
import { WebhookError } from '../domain/errors.js';
import { checkHealth, type HealthDeps } from '../monitoring/checkHealth.js';
import { getPerformance, WINDOWS, type WindowName } from '../monitoring/getPerformance.js';
import { getRealtime } from '../monitoring/getRealtime.js';
import { getWebhookRecord, listStageRecords } from '../monitoring/getWebhookRecord.js';
import { listWebhookRecords, type StatusFilter } from '../monitoring/listWebhookRecords.js';
import { ANSWER_STATUSES, SIGNAL_STATUSES, WEBHOOK_STATUSES } from '../domain/types.js';
import { listPositionGaps } from '../monitoring/listPositionGaps.js';
import { stageJson, webhookJson } from '../monitoring/webhookJson.js';
import type { Telemetry } from '../telemetry/makeTelemetry.js';
import { executionJson } from './executionJson.js';
import { summariseExecution } from './summariseExecution.js';
import { getSignal } from './getSignal.js';
import { listExecutions } from './listExecutions.js';
import { parseQuery } from './parseQuery.js';
import { replayWebhook, type ReplayDeps } from './replayWebhook.js';
import { signalJson } from './signalJson.js';
import { filterText, tickerFilter } from './filterText.js';

export interface MonitoringRouteDeps {
  pool: Pool;
  requireAdmin: preHandlerAsyncHookHandler;
  telemetry: Telemetry;
  health: HealthDeps;
  replay: ReplayDeps;
  traceUiUrl: string | undefined;
}

const performanceQuery = z.object({
  window: z.enum(Object.keys(WINDOWS) as [WindowName, ...WindowName[]]).default('last_24_hours'),
});
const isoDate = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
/**
 * `status` takes any status a webhook is known by: its record's (success, rejected, failed), the one its sender was
 * answered (accepted, duplicate, declined), or the error code it was answered with (WH_ERR_...).
 */
const statusFilter = z.union([
  z.enum(WEBHOOK_STATUSES).transform((value): StatusFilter => ({ column: 'status', value })),
  z.enum(ANSWER_STATUSES).transform((value): StatusFilter => ({ column: 'outcome', value })),
  z.string().regex(/^WH_ERR_[A-Z_]+$/).transform((value): StatusFilter => ({ column: 'error_code', value })),
], { error: `must be one of ${[...WEBHOOK_STATUSES, ...ANSWER_STATUSES].join(', ')} or an error code such as WH_ERR_AUTH_INVALID` });
const listQuery = z.object({
  status: statusFilter.optional(),
  execution: z.enum(SIGNAL_STATUSES).optional(),
  code: z.string().regex(/^WH_ERR_[A-Z_]+$/, 'must be an error code such as WH_ERR_AUTH_INVALID').optional(),
  ticker: tickerFilter.optional(),
  since: isoDate.optional(),
  until: isoDate.optional(),
  cursor: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
const replayQuery = z.object({ force: z.enum(['true', 'false']).default('false') });
const gapsQuery = z.object({
  state: z.enum(['open', 'closed', 'all']).default('open'),
  strategy: filterText(200).optional(),
  ticker: tickerFilter.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/** The seed's WebhookMonitor as an API: performance, realtime, health, webhook records and replay. */
export function registerMonitoringRoutes(app: FastifyInstance, deps: MonitoringRouteDeps): void {
  const admin = { preHandler: deps.requireAdmin };

  app.get('/api/monitoring/performance', admin, async (request) => {
    const { window } = parseQuery(performanceQuery, request.query);
    return getPerformance(deps.pool, window);
  });

  app.get('/api/monitoring/realtime', admin, async () => {
    const inFlight = (await deps.telemetry.metrics?.inFlight.get())?.values[0]?.value ?? 0;
    return getRealtime(deps.pool, { inFlight, sinkBufferedRecords: deps.telemetry.sink?.getStats().bufferedRecords ?? null });
  });

  app.get('/api/monitoring/health', admin, async (_request, reply) => {
    const health = await checkHealth(deps.health);
    return reply.code(health.status === 'unhealthy' ? 503 : 200).send(health);
  });

  app.get('/api/webhooks', admin, async (request) => {
    const filter = parseQuery(listQuery, request.query);
    const rows = await listWebhookRecords(deps.pool, filter);
    const last = rows.at(-1);
    return { webhooks: rows.map(webhookJson), nextCursor: rows.length === filter.limit && last ? last.id : null };
  });

  app.get<{ Params: { id: string } }>('/api/webhooks/:id', admin, async (request) => {
    const id = parseQuery(z.object({ id: z.uuid() }), request.params).id;
    const record = await getWebhookRecord(deps.pool, id);
    if (!record) {
      throw new WebhookError('WH_ERR_NOT_FOUND', `No record of webhook ${id} (records are written within a second; older than RETENTION_DAYS are deleted).`);
    }
    const [stages, signal, executions] = await Promise.all([
      listStageRecords(deps.pool, id),
      record.signal_id ? getSignal(deps.pool, record.signal_id) : undefined,
      record.signal_id ? listExecutions(deps.pool, { signalId: record.signal_id, limit: 100 }) : [],
    ]);
    return {
      webhook: webhookJson(record),
      stages: stages.map(stageJson),
      execution: signal ? summariseExecution(signal, executions) : null,
      signal: signal ? signalJson(signal) : null,
      executions: executions.map(executionJson),
      ...(deps.traceUiUrl && record.trace_id ? { traceUrl: `${deps.traceUiUrl}/trace/${record.trace_id}` } : {}),
    };
  });

  // Alerts TradingView never delivered, inferred from the position chain (detectPositionGaps).
  app.get('/api/monitoring/gaps', admin, async (request) => {
    const filter = parseQuery(gapsQuery, request.query);
    return { gaps: await listPositionGaps(deps.pool, filter) };
  });

  app.post<{ Params: { id: string } }>('/api/webhooks/:id/replay', admin, async (request) => {
    const id = parseQuery(z.object({ id: z.uuid() }), request.params).id;
    const { force } = parseQuery(replayQuery, request.query);
    return replayWebhook(deps.replay, id, { force: force === 'true', clientIp: request.ip, headers: request.headers });
  });
}
