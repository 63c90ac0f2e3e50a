import type { Builder } from '@grafana/grafana-foundation-sdk/cog';
import { RowBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { POSTGRES, SqlQueryBuilder } from './datasources.js';
import { prom, stat, timeseries } from './panels.js';

/** Strategies quiet for longer than TradingViewStrategySilent allows (prometheus/rules/alerts.yml), same expression. */
const SILENCE = '(time() - max without (instance) (tradingview_strategy_last_signal_timestamp_seconds))';
const SILENT_STRATEGIES = `${SILENCE} > clamp_min(max without (instance) (tradingview_strategy_usual_interval_seconds) * scalar(tv_webhook:strategy_silence_factor), scalar(tv_webhook:strategy_silence_min_seconds))`;

export const MISSED_SQL = {
  // Open gaps first, then the ones closed in the time range (a late alert filled them).
  gaps: `SELECT window_end AS "time", CASE WHEN closed_at IS NULL THEN 'open' ELSE 'closed' END AS state,
       NULLIF(strategy, '') AS strategy, ticker, last_position AS last_received, prev_position AS sender_says_before,
       last_position_size AS last_size, prev_position_size AS sender_says_size, window_start, closed_at
FROM position_gaps
WHERE closed_at IS NULL OR $__timeFilter(window_end)
ORDER BY closed_at IS NULL DESC, window_end DESC
LIMIT 100`,
};

/** Rows of the row, in grid units: it goes first and the rest of the dashboard moves down by this much. */
const HEIGHT = 9;

/**
 * The overview's first row (issue 15), the one a trader reads first: alerts that never arrived (position gaps)
 * and strategies that went quiet. Its panels come last in the panel list, so that the ids of the panels above
 * (which alert links name, /d/<uid>?viewPanel=<id>) do not change; the grid puts them at the top.
 */
export function withMissedAndSilentRow(dashboard: Builder<Dashboard>): Builder<Dashboard> {
  return {
    build() {
      const built = dashboard.build();
      const panels = built.panels ?? [];
      for (const panel of panels) if (panel.gridPos) panel.gridPos.y += HEIGHT;
      panels.push(
        new RowBuilder('Missed and silent').gridPos({ h: 1, w: 24, x: 0, y: 0 }).build(),
        stat('Missed alerts (open)', 'Open gaps in the strategies\' position chains: each is at least one alert that TradingView never delivered. See the table, then TradingView\'s alert log ("Webhook status") for the gap\'s time window.', 'short', { h: 4, w: 5, x: 0, y: 1 },
          prom('sum(max without (instance) (tradingview_position_gaps_open))', 'open gaps'), [[null, 'green'], [1, 'red']]).build(),
        stat('Silent strategies', 'Strategies quiet for more than 4 times their usual interval (at least 15 minutes): TradingViewStrategySilent.', 'short', { h: 4, w: 5, x: 0, y: 5 },
          prom(`count(${SILENT_STRATEGIES}) or vector(0)`, 'silent strategies'), [[null, 'green'], [1, 'orange']]).build(),
        new TablePanel()
          .title('Missed alerts (position gaps)')
          .description('An alert said its previous position was not the one the last received alert of the same strategy and ticker left: the alert(s) in between never arrived (window_start to time). Closed: a late alert filled the gap. GET /api/monitoring/gaps has the same.')
          .datasource(POSTGRES)
          .gridPos({ h: 8, w: 11, x: 5, y: 1 })
          .withTarget(new SqlQueryBuilder(MISSED_SQL.gaps))
          .build(),
        timeseries('Silence per strategy', 'Time since each strategy\'s last alert, in multiples of its usual interval (the median over 7 days). TradingViewStrategySilent fires above 4 (and 15 minutes).', 'short', { h: 8, w: 8, x: 16, y: 1 }, [
          prom(`${SILENCE} / max without (instance) (tradingview_strategy_usual_interval_seconds)`, '{{strategy}}'),
        ]).build(),
      );
      built.panels = panels;
      return built;
    },
  };
}
