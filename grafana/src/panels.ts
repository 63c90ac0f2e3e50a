import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import { BigValueColorMode, BigValueGraphMode, LegendDisplayMode, LegendPlacement, ReduceDataOptionsBuilder, VizLegendOptionsBuilder } from '@grafana/grafana-foundation-sdk/common';
import { ThresholdsConfigBuilder, ThresholdsMode, type GridPos } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { PROMETHEUS } from './datasources.js';

/** Small helpers shared by the dashboards: one PromQL target, a time series panel, a stat panel. */

const REF_IDS = 'ABCDEFGHIJ';

/** A Prometheus range query; `exemplars` asks Grafana to draw the trace_id exemplars stored with the series. */
export function prom(expr: string, legend: string, index = 0, exemplars = false): DataqueryBuilder {
  const q = new DataqueryBuilder().datasource(PROMETHEUS).expr(expr).legendFormat(legend).refId(REF_IDS[index]!).range();
  return exemplars ? q.exemplar(true) : q;
}

export function timeseries(title: string, description: string, unit: string, gridPos: GridPos, targets: Builder<Dataquery>[]): TimeseriesPanel {
  const panel = new TimeseriesPanel()
    .title(title)
    .description(description)
    .datasource(PROMETHEUS)
    .unit(unit)
    .gridPos(gridPos)
    .min(0)
    .fillOpacity(10)
    .legend(new VizLegendOptionsBuilder().displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom).showLegend(true));
  for (const t of targets) panel.withTarget(t);
  return panel;
}

/** A single number with red/green thresholds (`steps`: [color at -inf, [value, color], ...]). */
export function stat(title: string, description: string, unit: string, gridPos: GridPos, target: Builder<Dataquery>, steps: Array<[number | null, string]>): StatPanel {
  return new StatPanel()
    .title(title)
    .description(description)
    .datasource(PROMETHEUS)
    .unit(unit)
    .gridPos(gridPos)
    .graphMode(BigValueGraphMode.Area)
    .colorMode(BigValueColorMode.Value)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']))
    .thresholds(new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(steps.map(([value, color]) => ({ value, color }))))
    .withTarget(target);
}
