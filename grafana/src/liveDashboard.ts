import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { POSTGRES, SqlQueryBuilder } from './datasources.js';
import { dashboard, prom, timeseries } from './panels.js';

export const LIVE_UID = 'tv-webhook-live';

const RATE = '[$__rate_interval]';

export const LIVE_SQL = {
  latest: `SELECT created_at AS "time", status, ticker, action, strategy, outcome, error_code,
       round(processing_time_ms::numeric, 2) AS duration_ms, id::text AS webhook_id, trace_id
FROM webhook_requests
WHERE $__timeFilter(created_at)
ORDER BY created_at DESC
LIMIT 50`,
};

/**
 * The live view for the engineer on call (issue 15): its own dashboard because Grafana has one refresh
 * setting per dashboard, and 5 s (Grafana's default minimum) would make the overview's heavier panels
 * query Prometheus and Postgres twelve times a minute. For each webhook as it happens, GET
 * /api/monitoring/stream pushes its outcome (Server-Sent Events).
 */
export function makeLiveDashboard() {
  return dashboard('TradingView webhooks: live', LIVE_UID, 'liveDashboard.ts', 'now-30m')
    .refresh('5s')
    .withPanel(timeseries('Requests / s (live)', 'Webhook requests per second by answer status.', 'reqps', { h: 8, w: 12, x: 0, y: 0 }, [
      prom(`sum by (status) (rate(webhook_requests_total${RATE}))`, '{{status}}'),
    ]))
    .withPanel(timeseries('p95 latency (live)', 'p95 end-to-end processing time.', 's', { h: 8, w: 12, x: 12, y: 0 }, [
      prom(`histogram_quantile(0.95, sum by (le) (rate(webhook_processing_duration_seconds_bucket${RATE})))`, 'p95', 0, true),
    ]))
    .withPanel(timeseries('Anomaly scores', 'How far request rate, rejection ratio and p95 latency are from the same hour a week ago (yesterday in the first week), in standard deviations. The anomaly alerts fire beyond 3 for 15 minutes.', 'short', { h: 8, w: 24, x: 0, y: 8 }, [
      prom('max(job:webhook_requests:rate5m_zscore)', 'request rate', 0),
      prom('max(job:webhook_request_rejections:ratio_rate5m_zscore)', 'rejection ratio', 1),
      prom('max(job:webhook_processing_duration_seconds:p95_rate5m_zscore)', 'p95 latency', 2),
    ]))
    .withPanel(new TablePanel()
      .title('Latest webhooks (live)')
      .description('The 50 newest webhook records (written within a second of the answer).')
      .datasource(POSTGRES)
      .gridPos({ h: 12, w: 24, x: 0, y: 16 })
      .overrideByName('duration_ms', [{ id: 'unit', value: 'ms' }])
      .withTarget(new SqlQueryBuilder(LIVE_SQL.latest)));
}
