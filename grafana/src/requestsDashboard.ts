import {
  CustomVariableBuilder, QueryVariableBuilder, TextBoxVariableBuilder, VariableRefresh,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { BigValueColorMode, BigValueGraphMode, ReduceDataOptionsBuilder } from '@grafana/grafana-foundation-sdk/common';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { POSTGRES, SqlQueryBuilder } from './datasources.js';
import { dashboard } from './panels.js';

export const REQUESTS_UID = 'tv-webhook-requests';

/** Links a table column to the trace in Jaeger's UI ($jaeger_url) or to this dashboard's stage view. */
const traceLink = { id: 'links', value: [{ title: 'Open trace in Jaeger', url: '${jaeger_url}/trace/${__value.raw}', targetBlank: true }] };
const stagesLink = { id: 'links', value: [{ title: 'Show stages of this webhook', url: `/d/${REQUESTS_UID}?var-webhook_id=\${__value.raw}&\${__url_time_range}&\${status:queryparam}&\${jaeger_url:queryparam}` }] };

// Grafana expands $status to a quoted list ('success','rejected') and $__timeFilter(col) to a time range
// condition. Every query below runs against a real database in tests/grafanaDashboards.test.ts.
export const SQL = {
  countsByStatus: `SELECT status, count(*) AS requests
FROM webhook_requests
WHERE $__timeFilter(created_at)
GROUP BY status
ORDER BY status`,
  latestWebhooks: `SELECT w.created_at AS "time", w.status, w.ticker, w.action, w.outcome,
       s.status AS execution, s.last_error AS execution_error,
       round(w.processing_time_ms::numeric, 2) AS duration_ms,
       w.error_code AS rejection_code, w.http_status,
       w.id::text AS webhook_id, w.trace_id
FROM webhook_requests w
LEFT JOIN signals s ON s.id = w.signal_id
WHERE $__timeFilter(w.created_at) AND w.status IN ($status)
ORDER BY w.created_at DESC
LIMIT 200`,
  latestFailures: `SELECT created_at AS "time", status, http_status, error_code, error_message, ticker,
       id::text AS webhook_id, trace_id
FROM webhook_requests
WHERE $__timeFilter(created_at) AND status <> 'success'
ORDER BY created_at DESC
LIMIT 100`,
  stagesOfWebhook: `SELECT stage, status, started_at, round(duration_ms::numeric, 3) AS duration_ms, error_message, span_id
FROM processing_stages
WHERE webhook_id = NULLIF('$webhook_id', '')::uuid
ORDER BY started_at, array_position(ARRAY['received','enriching','deciding','executing','completed','failed'], stage)`,
  executionOfWebhook: `SELECT s.status AS execution, e.outcome, e.retry, e.attempt, e.executor,
       round(EXTRACT(EPOCH FROM e.completed_at - s.received_at)::numeric * 1000, 1) AS alert_to_settled_ms,
       COALESCE(e.error, s.decline_reason) AS reason, e.trace_id
FROM webhook_requests w
JOIN signals s ON s.id = w.signal_id
LEFT JOIN executions e ON e.signal_id = s.id
WHERE w.id = NULLIF('$webhook_id', '')::uuid
ORDER BY e.retry NULLS FIRST`,
  failedSignals: `SELECT s.failed_at AS "time", s.ticker, s.action, s.last_error AS reason, s.attempts, s.retries,
       s.webhook_id::text AS webhook_id, s.id::text AS signal_id, s.trace_id
FROM signals s
WHERE s.status = 'failed' AND $__timeFilter(s.failed_at)
ORDER BY s.failed_at DESC
LIMIT 100`,
  webhookIds: `SELECT id::text FROM webhook_requests WHERE $__timeFilter(created_at) ORDER BY created_at DESC LIMIT 100`,
};

/**
 * The Requests dashboard, on the Postgres datasource (read-only role grafana_reader): every webhook with its
 * answer and its signal's execution, the latest failures with their messages, the stages and execution of one
 * selected webhook, and the signals whose execution failed. Trace ids link to Jaeger; webhook ids select the
 * webhook for the stage view.
 */
export function makeRequestsDashboard() {
  return dashboard('TradingView webhooks: requests', REQUESTS_UID, 'requestsDashboard.ts', 'now-6h')
    .withVariable(new CustomVariableBuilder('status').label('Status').values('success,rejected,failed').multi(true).includeAll(true)
      .current({ text: ['All'], value: ['$__all'] }))
    .withVariable(new QueryVariableBuilder('webhook_id').label('Webhook').datasource(POSTGRES).query(SQL.webhookIds)
      .definition(SQL.webhookIds).refresh(VariableRefresh.OnTimeRangeChanged))
    .withVariable(new TextBoxVariableBuilder('jaeger_url').label('Jaeger UI').defaultValue('http://localhost:16686')
      .current({ text: 'http://localhost:16686', value: 'http://localhost:16686' }))

    .withPanel(new StatPanel()
      .title('Requests by status')
      .description('Webhooks recorded in the time range, by status.')
      .datasource(POSTGRES)
      .gridPos({ h: 4, w: 24, x: 0, y: 0 })
      .graphMode(BigValueGraphMode.None)
      .colorMode(BigValueColorMode.Background)
      .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(true).fields('/^requests$/'))
      .overrideByName('requests', [{ id: 'displayName', value: '${__data.fields.status}' }])
      .withTarget(new SqlQueryBuilder(SQL.countsByStatus)))
    .withPanel(sqlTable('Latest webhooks', 'Newest first, filtered by the Status variable. Click a trace id for the trace in Jaeger (kept for every failed, rejected or slow webhook, and for the others at TAIL_SAMPLING_PERCENT, 100 by default: below that a link may open nothing), a webhook id for its stages below.',
      12, 4, SQL.latestWebhooks, { links: true, durationMs: true }).filterable(true))
    .withPanel(sqlTable('Latest failures and rejections', 'Every request that was not handled, with the message the sender got. failed = our fault (5xx), rejected = the sender\'s (4xx).',
      10, 16, SQL.latestFailures, { links: true }))
    .withPanel(sqlTable('Stages of webhook $webhook_id', 'Each processing stage of the selected webhook (the Webhook variable), in order, with its duration.',
      8, 26, SQL.stagesOfWebhook, { durationMs: true }).gridPos({ h: 8, w: 14, x: 0, y: 26 }))
    // Added after the others so that existing panel ids (and links to them) stay.
    .withPanel(sqlTable('Execution of webhook $webhook_id', 'What happened after the answer: the signal\'s status (queued, executing, executed, failed, declined) and each run of it (retry 0 is the webhook\'s, then one per operator retry) with its outcome, the time from the alert\'s receipt to settling, and why it failed or was declined.',
      8, 26, SQL.executionOfWebhook, {}).gridPos({ h: 8, w: 10, x: 14, y: 26 })
      .overrideByName('alert_to_settled_ms', [{ id: 'unit', value: 'ms' }]).overrideByName('trace_id', [traceLink]))
    .withPanel(sqlTable('Failed signals (trades that did not happen)', 'Signals answered 200 whose execution failed (a 4xx from the broker, or every attempt used up), still failed, with the reason. Run them again with POST /api/signals/retry?since=... (dryRun=true first) once the cause is fixed; a retried signal leaves this list.',
      8, 34, SQL.failedSignals, { links: true }));
}

/** A full-width table on the Postgres datasource; `links` makes trace_id open Jaeger and webhook_id select the webhook. */
function sqlTable(title: string, description: string, height: number, y: number, sql: string, o: { links?: boolean; durationMs?: boolean }): TablePanel {
  const panel = new TablePanel().title(title).description(description).datasource(POSTGRES).gridPos({ h: height, w: 24, x: 0, y });
  if (o.links) panel.overrideByName('trace_id', [traceLink]).overrideByName('webhook_id', [stagesLink]);
  if (o.durationMs) panel.overrideByName('duration_ms', [{ id: 'unit', value: 'ms' }]);
  return panel.withTarget(new SqlQueryBuilder(sql));
}
