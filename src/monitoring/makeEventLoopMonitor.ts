import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface EventLoopMonitor {
  /** 99th percentile of the event-loop delay since the last reset, in ms. */
  p99Ms(): number;
  reset(): void;
  stop(): void;
}

/** Samples the event-loop delay continuously (every 20 ms), for the health check's eventLoop entry. */
export function makeEventLoopMonitor(): EventLoopMonitor {
  const histogram = monitorEventLoopDelay({ resolution: 20 });
  histogram.enable();
  return {
    p99Ms: () => histogram.percentile(99) / 1e6,
    reset: () => histogram.reset(),
    stop: () => histogram.disable(),
  };
}
