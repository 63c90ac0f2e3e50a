import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { JAEGER, JaegerSearchBuilder } from './datasources.js';
import { withMissedAndSilentRow } from './missedAndSilentRow.js';
import { dashboard, prom, stat, timeseries } from './panels.js';

export const OVERVIEW_UID = 'tv-webhook-overview';

const RATE = '[$__rate_interval]';
const ratio = (selector: string) => `sum(rate(webhook_requests_total{${selector}}${RATE})) / sum(rate(webhook_requests_total${RATE}))`;
const quantile = (q: number, metric: string, by = '', selector = '') =>
  `histogram_quantile(${q}, sum by (${by ? `${by}, ` : ''}le) (rate(${metric}_bucket${selector ? `{${selector}}` : ''}${RATE})))`;

/**
 * The overview dashboard: what on-call opens first. Traffic and answers, latency end to end and per stage
 * (with exemplars that open the trace in Jaeger), the execution queue, TradingView's delivery lag, the health
 * of monitoring itself, and the process. Every PromQL expression here is run against a real Prometheus
 * scraping the service in tests/prometheusScrape.test.ts.
 */
export function makeOverviewDashboard() {
  return withMissedAndSilentRow(dashboard('TradingView webhooks: overview', OVERVIEW_UID, 'overviewDashboard.ts', 'now-1h')
    .withRow(new RowBuilder('Answers').gridPos({ h: 1, w: 24, x: 0, y: 0 }))
    .withPanel(stat('Requests / s', 'All webhook requests answered, per second.', 'reqps', { h: 4, w: 5, x: 0, y: 1 },
      prom(`sum(rate(webhook_requests_total${RATE}))`, 'requests/s'), [[null, 'blue']]))
    .withPanel(stat('Success ratio', 'Accepted, duplicate or declined (the request was handled) over all requests.', 'percentunit', { h: 4, w: 5, x: 5, y: 1 },
      prom(ratio('status="success"'), 'success'), [[null, 'red'], [0.9, 'orange'], [0.99, 'green']]))
    .withPanel(stat('Failed ratio (5xx)', 'Our failures: these spend the 99.9% availability objective.', 'percentunit', { h: 4, w: 5, x: 10, y: 1 },
      prom(ratio('status="failed"'), 'failed'), [[null, 'green'], [0.001, 'orange'], [0.0144, 'red']]))
    .withPanel(stat('Rejected ratio (4xx)', 'Refused requests (authentication, validation, rate limit): the sender must fix something.', 'percentunit', { h: 4, w: 5, x: 15, y: 1 },
      prom(ratio('status="rejected"'), 'rejected'), [[null, 'green'], [0.05, 'orange'], [0.25, 'red']]))
    .withPanel(stat('Since last signal', 'Time since the latest signal was received (TradingViewAlertsSilent fires past its threshold).', 's', { h: 4, w: 4, x: 20, y: 1 },
      prom('time() - max(tradingview_last_signal_timestamp_seconds)', 'since last signal'), [[null, 'green'], [3600, 'red']]))
    .withPanel(timeseries('Request rate by status', 'Requests per second by answer status.', 'reqps', { h: 8, w: 8, x: 0, y: 5 }, [
      prom(`sum by (status) (rate(webhook_requests_total${RATE}))`, '{{status}}'),
    ]))
    .withPanel(timeseries('Success and error ratio', 'Share of requests by status. Failed is our fault (5xx); rejected is the sender\'s (4xx).', 'percentunit', { h: 8, w: 8, x: 8, y: 5 }, [
      prom(ratio('status="success"'), 'success', 0),
      prom(ratio('status="failed"'), 'failed', 1),
      prom(ratio('status="rejected"'), 'rejected', 2),
    ]))
    .withPanel(timeseries('Rejections by code', 'WH_ERR_AUTH_* usually means a rotated or leaked secret; validation codes mean a wrong alert message template.', 'reqps', { h: 8, w: 8, x: 16, y: 5 }, [
      prom(`sum by (code) (rate(webhook_requests_total{status="rejected"}${RATE}))`, '{{code}}'),
    ]))

    .withRow(new RowBuilder('Latency').gridPos({ h: 1, w: 24, x: 0, y: 13 }))
    .withPanel(timeseries('End-to-end latency', 'From receipt to answer. The target is 100 ms at p99. Dots are exemplars: click one to open its trace in Jaeger (kept for every webhook by default; with TAIL_SAMPLING_PERCENT below 100, a fast success\'s trace is kept only at that percentage, so its dot may open nothing).', 's', { h: 9, w: 12, x: 0, y: 14 }, [
      prom(quantile(0.5, 'webhook_processing_duration_seconds'), 'p50', 0, true),
      prom(quantile(0.95, 'webhook_processing_duration_seconds'), 'p95', 1, true),
      prom(quantile(0.99, 'webhook_processing_duration_seconds'), 'p99', 2, true),
    ]))
    .withPanel(timeseries('Latency per stage', 'p50/p95/p99 of each processing stage (received, enriching, deciding, executing, completed), with exemplars (see End-to-end latency for when one opens nothing).', 's', { h: 9, w: 12, x: 12, y: 14 }, [
      prom(quantile(0.5, 'webhook_stage_duration_seconds', 'stage'), '{{stage}} p50', 0, true),
      prom(quantile(0.95, 'webhook_stage_duration_seconds', 'stage'), '{{stage}} p95', 1, true),
      prom(quantile(0.99, 'webhook_stage_duration_seconds', 'stage'), '{{stage}} p99', 2, true),
    ]))
    .withPanel(timeseries('In flight', 'Webhook requests being processed right now.', 'short', { h: 7, w: 8, x: 0, y: 23 }, [
      prom('sum(webhook_requests_in_flight)', 'in flight'),
    ]))
    .withPanel(timeseries('TradingView delivery lag', "Time from the alert's own time to its receipt: TradingView's queue and the network, or a wrong clock.", 's', { h: 7, w: 8, x: 8, y: 23 }, [
      prom(quantile(0.5, 'tradingview_delivery_lag_seconds'), 'p50', 0),
      prom(quantile(0.95, 'tradingview_delivery_lag_seconds'), 'p95', 1),
    ]))
    .withPanel(timeseries('Payload size', 'p95 of webhook body sizes.', 'bytes', { h: 7, w: 8, x: 16, y: 23 }, [
      prom(quantile(0.95, 'webhook_payload_size_bytes'), 'p95'),
    ]))

    .withRow(new RowBuilder('Execution').gridPos({ h: 1, w: 24, x: 0, y: 30 }))
    .withPanel(timeseries('Queue', 'Signals waiting to execute, how long the oldest due one has waited (seconds), and stuck signals: queued or executing with no job that will settle them (its attempts used up, or its worker dead). Settle each by hand once its order is checked at the target (POST /api/signals/<id>/settle).', 'short', { h: 8, w: 8, x: 0, y: 31 }, [
      // Every web process reads the same queue from the shared database: max, not sum, over several processes.
      prom('max(signal_queue_depth)', 'depth', 0),
      prom('max(signal_queue_oldest_job_age_seconds)', 'oldest job age (s)', 1),
      prom('max(signals_stuck)', 'stuck signals', 2),
    ]))
    .withPanel(timeseries('Executions by outcome', 'Execution attempts settled by the worker: filled (paper), forwarded, retry, failed (attempts exhausted: a trade that did not happen), unrecorded (the order went out but recording it failed); and restarts of the worker\'s job runner, which stops on its own when a job\'s done or failed update fails (started again within seconds, its jobs run again).', 'ops', { h: 8, w: 8, x: 8, y: 31 }, [
      prom(`sum by (executor, outcome) (rate(signal_executions_total${RATE}))`, '{{executor}} {{outcome}}', 0),
      prom(`sum(rate(signal_worker_restarts_total${RATE}))`, 'worker restarts', 1),
      prom(quantile(0.95, 'signal_execution_duration_seconds', 'executor'), '{{executor}} p95 duration (s)', 2, true),
    ]))
    .withPanel(timeseries('Declines by reason', 'Signals the policy declined (stale alert, symbol not allowed, size limits).', 'ops', { h: 8, w: 8, x: 16, y: 31 }, [
      prom(`sum by (reason) (rate(signal_declines_total${RATE}))`, '{{reason}}'),
    ]))

    .withRow(new RowBuilder('Monitoring pipeline').gridPos({ h: 1, w: 24, x: 0, y: 39 }))
    .withPanel(timeseries('Sink records by outcome', 'Webhook and stage records: written, retried, dropped (buffer full), rate_limited, failed. Dropped or failed means gaps in the Requests dashboard.', 'ops', { h: 8, w: 8, x: 0, y: 40 }, [
      prom(`sum by (outcome) (rate(monitoring_sink_records_total${RATE}))`, '{{outcome}}', 0),
    ]))
    .withPanel(timeseries('Sink buffer and writes', 'Records waiting to be written, and the p99 duration of a batch write (s).', 'short', { h: 8, w: 8, x: 8, y: 40 }, [
      prom('sum(monitoring_sink_buffer_records)', 'buffered records', 0),
      prom(quantile(0.99, 'monitoring_sink_write_duration_seconds'), 'write p99 (s)', 1),
    ]))
    .withPanel(timeseries('Instrumentation errors', 'Spans the OTLP exporter failed to deliver or dropped at its queue bound, errors inside span consumers, failed queue reads at scrape time, failed parts of the signal watch (missed alerts, silent strategies, stuck signals), failed retention runs. All are isolated from the request path.', 'ops', { h: 8, w: 8, x: 16, y: 40 }, [
      prom(`sum(rate(trace_export_failures_total${RATE}))`, 'span export failures', 0),
      prom(`sum by (component) (rate(monitoring_instrumentation_errors_total${RATE}))`, '{{component}} errors', 1),
      prom(`sum(rate(signal_queue_scrape_errors_total${RATE}))`, 'queue scrape errors', 2),
      prom(`sum(rate(trace_export_dropped_spans_total${RATE}))`, 'spans dropped (export queue full)', 3),
      prom(`sum(rate(tradingview_watch_errors_total${RATE}))`, 'signal watch errors', 4),
      prom(`sum(rate(monitoring_retention_errors_total${RATE}))`, 'retention errors', 5),
    ]))

    .withRow(new RowBuilder('Process').gridPos({ h: 1, w: 24, x: 0, y: 48 }))
    .withPanel(timeseries('CPU', 'CPU seconds per second used by the service process.', 'percentunit', { h: 7, w: 8, x: 0, y: 49 }, [
      prom(`sum(rate(process_cpu_seconds_total{job="tv-webhook"}${RATE}))`, 'cpu'),
    ]))
    .withPanel(timeseries('Memory', 'Resident memory and V8 heap in use.', 'bytes', { h: 7, w: 8, x: 8, y: 49 }, [
      prom('sum(process_resident_memory_bytes{job="tv-webhook"})', 'resident', 0),
      prom('sum(nodejs_heap_size_used_bytes{job="tv-webhook"})', 'heap used', 1),
    ]))
    .withPanel(timeseries('Event loop lag', 'p99 event loop delay: above a few ms, every request waits.', 's', { h: 7, w: 8, x: 16, y: 49 }, [
      prom('max(nodejs_eventloop_lag_p99_seconds{job="tv-webhook"})', 'p99'),
    ]))

    .withRow(new RowBuilder('Traces').gridPos({ h: 1, w: 24, x: 0, y: 56 }))
    .withPanel(new TablePanel()
      .title('Failed and slow traces (Jaeger)')
      .description('Recent traces with an error, and webhooks slower than 100 ms. Click a trace id to open it. The collector keeps every such trace (tail sampling, otel/collector.yaml), counting an execution only if it ends within 5 s (decision_wait) of the webhook.')
      .datasource(JAEGER)
      .gridPos({ h: 9, w: 24, x: 0, y: 57 })
      .withTarget(new JaegerSearchBuilder('A', { tags: 'error=true', limit: 20 }))
      .withTarget(new JaegerSearchBuilder('B', { minDuration: '100ms', limit: 20 }))));
}
