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
  latestWebhooks: `SELECT created_at AS "time", status, ticker, action, outcome,
       round(processing_time_ms::numeric, 2) AS duration_ms,
       error_code AS rejection_code, http_status,
       id::text AS webhook_id, trace_id
FROM webhook_requests
WHERE $__timeFilter(created_at) AND status IN ($status)
ORDER BY created_at DESC
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
  webhookIds: `SELECT id::text FROM webhook_requests WHERE $__timeFilter(created_at) ORDER BY created_at DESC LIMIT 100`,
};

/**
 * The Requests dashboard, on the Postgres datasource (read-only role grafana_reader): every webhook with its
 * answer, the latest failures with their messages, and the stages of one selected webhook. Trace ids link to
 * Jaeger; webhook ids select the webhook for the stage view.
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
      8, 26, SQL.stagesOfWebhook, { durationMs: true }));
}

/** A full-width table on the Postgres datasource; `links` makes trace_id open Jaeger and webhook_id select the webhook. */
function sqlTable(title: string, description: string, height: number, y: number, sql: string, o: { links?: boolean; durationMs?: boolean }): TablePanel {
  const panel = new TablePanel().title(title).description(description).datasource(POSTGRES).gridPos({ h: height, w: 24, x: 0, y });
  if (o.links) panel.overrideByName('trace_id', [traceLink]).overrideByName('webhook_id', [stagesLink]);
  if (o.durationMs) panel.overrideByName('duration_ms', [{ id: 'unit', value: 'ms' }]);
  return panel.withTarget(new SqlQueryBuilder(sql));
}
