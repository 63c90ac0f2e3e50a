import type { Metrics } from '../telemetry/makeMetrics.js';
import type { StrategyWatch } from './readStrategyWatch.js';
import { strategyLabel } from './strategyLabel.js';

/** Replaces the per-strategy gauges with this scrape's values (a strategy no longer reported disappears). */
export function setStrategyGauges(metrics: Metrics, watch: StrategyWatch): void {
  const byLabel = new Map<string, { last: number; usual: number | null; gaps: number }>();
  for (const s of watch.strategies) {
    const label = strategyLabel(s.strategy);
    const seen = byLabel.get(label);
    byLabel.set(label, {
      last: Math.max(seen?.last ?? 0, s.lastSignalSeconds),
      usual: seen?.usual != null && s.usualIntervalSeconds != null ? Math.min(seen.usual, s.usualIntervalSeconds) : (s.usualIntervalSeconds ?? seen?.usual ?? null),
      gaps: (seen?.gaps ?? 0) + s.openGaps,
    });
  }
  metrics.strategyLastSignalTimestampSeconds.reset();
  metrics.strategyUsualIntervalSeconds.reset();
  metrics.positionGapsOpen.reset();
  for (const [strategy, v] of byLabel) {
    metrics.strategyLastSignalTimestampSeconds.set({ strategy }, v.last);
    if (v.usual !== null) metrics.strategyUsualIntervalSeconds.set({ strategy }, v.usual);
    metrics.positionGapsOpen.set({ strategy }, v.gaps);
  }
  if (watch.otherOpenGaps > 0 || watch.leftOut > 0) metrics.positionGapsOpen.set({ strategy: 'other' }, watch.otherOpenGaps);
  metrics.strategiesLeftOut.set(watch.leftOut);
}
