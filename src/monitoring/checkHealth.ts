import { getHeapStatistics } from 'node:v8';
import type { Pool } from '../db/makePool.js';
import { toError } from '../domain/errors.js';
import type { ExportHealth } from '../telemetry/makeCountingExporter.js';
import type { SinkStats } from '../telemetry/recordSink.js';
import { countStuckSignals } from './countStuckSignals.js';
import { getQueueStats } from './getQueueStats.js';
import { listFailedSignals } from './listFailedSignals.js';
import type { EventLoopMonitor } from './makeEventLoopMonitor.js';

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

export interface Check {
  status: HealthStatus;
  detail: string;
  [key: string]: unknown;
}

export interface HealthDeps {
  pool: Pool;
  thresholds: {
    dbLatencyWarnMs: number;
    queueMaxDepth: number;
    queueMaxAgeSeconds: number;
    executionFailureWindowSeconds: number;
    /** A job locked more recently than this is an attempt still running (liveAttemptSeconds). */
    liveAttemptSeconds: number;
  };
  worker: { enabled: boolean; alive: () => boolean; restarts: () => number };
  sink: () => SinkStats | undefined;
  exporter: () => ExportHealth | undefined;
  /** Event-loop delay, sampled continuously; reset after each health check. */
  eventLoop: Pick<EventLoopMonitor, 'p99Ms' | 'reset'>;
}

/** How recent a sink drop, sink failure or export failure must be to count against health. */
const RECENT_MS = 5 * 60_000;

const worst = (a: HealthStatus, b: HealthStatus): HealthStatus =>
  a === 'unhealthy' || b === 'unhealthy' ? 'unhealthy' : a === 'degraded' || b === 'degraded' ? 'degraded' : 'healthy';

const recent = (iso: string | null, now: number) => iso !== null && now - Date.parse(iso) < RECENT_MS;

/**
 * The seed's getSystemHealth(): each check with its own status; the overall status is the worst of them.
 * unhealthy = the service cannot keep its promise (database unreachable, worker dead, queue hours behind);
 * degraded = it still does, but something needs attention.
 */
export async function checkHealth(deps: HealthDeps, now = Date.now()) {
  const checks: Record<string, Check> = {};

  const started = performance.now();
  try {
    await deps.pool.query('SELECT 1');
    const ms = Math.round((performance.now() - started) * 100) / 100;
    checks.database = {
      status: ms > deps.thresholds.dbLatencyWarnMs ? 'degraded' : 'healthy',
      detail: `SELECT 1 in ${ms} ms (warn above ${deps.thresholds.dbLatencyWarnMs} ms)`,
      latencyMs: ms,
    };
  } catch (err) {
    checks.database = { status: 'unhealthy', detail: `database unreachable: ${toError(err).message}` };
  }

  if (checks.database.status !== 'unhealthy') {
    try {
      const q = await getQueueStats(deps.pool);
      const age = q.oldestAgeSeconds;
      const max = deps.thresholds.queueMaxAgeSeconds;
      let status: HealthStatus = 'healthy';
      if (age > max * 10) status = 'unhealthy';
      else if (age > max || q.depth > deps.thresholds.queueMaxDepth) status = 'degraded';
      checks.queue = {
        status,
        detail: `${q.depth} waiting (${q.due} due), oldest due job ${Math.round(age)} s old (limits: ${deps.thresholds.queueMaxDepth} jobs, ${max} s)`,
        depth: q.depth,
        due: q.due,
        running: q.running,
        oldestJobAgeSeconds: Math.round(age * 1000) / 1000,
      };
    } catch (err) {
      checks.queue = { status: 'degraded', detail: `queue unreadable: ${toError(err).message}` };
    }
  } else {
    checks.queue = { status: 'unhealthy', detail: 'unknown: the database is unreachable' };
  }

  checks.executions =
    checks.database.status === 'unhealthy'
      ? { status: 'unhealthy', detail: 'unknown: the database is unreachable' }
      : await checkExecutions(deps, now);

  checks.worker = deps.worker.enabled
    ? deps.worker.alive()
      ? { status: 'healthy', detail: `running in this process${deps.worker.restarts() > 0 ? ` (started again ${deps.worker.restarts()} time(s) after stopping on its own)` : ''}` }
      : { status: 'unhealthy', detail: 'the in-process worker has stopped; it is being started again (see the log: "worker stopped on its own")' }
    : { status: 'healthy', detail: 'not in this process (WORKER_ENABLED=false); see the queue check for separate workers' };

  const sink = deps.sink();
  if (!sink) checks.sink = { status: 'healthy', detail: 'monitoring disabled' };
  else {
    const fill = Math.max(sink.bufferedRecords / sink.maxBufferRecords, sink.bufferedBytes / sink.maxBufferBytes);
    const degraded = fill > 0.8 || recent(sink.lastDropAt, now) || recent(sink.lastErrorAt, now);
    checks.sink = {
      status: degraded ? 'degraded' : 'healthy',
      detail: degraded
        ? `buffer ${Math.round(fill * 100)}% full; last error ${sink.lastError ?? 'none'} at ${sink.lastErrorAt ?? '-'}; last drop at ${sink.lastDropAt ?? '-'}`
        : `buffer ${sink.bufferedRecords}/${sink.maxBufferRecords} records, ${sink.bufferedBytes}/${sink.maxBufferBytes} bytes`,
      ...sink,
    };
  }

  const exporter = deps.exporter();
  if (!exporter) checks.traceExporter = { status: 'healthy', detail: 'no OTLP endpoint configured' };
  else {
    const failing = recent(exporter.lastErrorAt, now);
    checks.traceExporter = {
      status: failing ? 'degraded' : 'healthy',
      detail: failing ? `export failing: ${exporter.lastError}` : `${exporter.exported} spans exported`,
      ...exporter,
    };
  }

  const loopMs = Math.round(deps.eventLoop.p99Ms() * 100) / 100;
  deps.eventLoop.reset();
  checks.eventLoop = {
    status: loopMs > 1000 ? 'unhealthy' : loopMs > 200 ? 'degraded' : 'healthy',
    detail: `p99 delay ${loopMs} ms since the last check (degraded above 200 ms)`,
    p99Ms: loopMs,
  };

  const heap = getHeapStatistics();
  const heapRatio = heap.used_heap_size / heap.heap_size_limit;
  checks.memory = {
    status: heapRatio > 0.9 ? 'degraded' : 'healthy',
    detail: `heap ${Math.round(heapRatio * 100)}% of its limit; rss ${Math.round(process.memoryUsage.rss() / 1048576)} MiB`,
    heapUsedBytes: heap.used_heap_size,
    heapLimitBytes: heap.heap_size_limit,
    rssBytes: process.memoryUsage.rss(),
  };

  const status = Object.values(checks).reduce<HealthStatus>((s, c) => worst(s, c.status), 'healthy');
  return { status, checkedAt: new Date(now).toISOString(), checks };
}

/**
 * What happened after the 200: degraded while a signal that failed within the window is still failed (not
 * retried since: a trade that did not happen), or while signals are stuck (see countStuckSignals). The detail
 * says which, with the latest failure's reason.
 */
async function checkExecutions(deps: HealthDeps, now: number): Promise<Check> {
  const windowSeconds = deps.thresholds.executionFailureWindowSeconds;
  try {
    const [failed, stuck] = await Promise.all([
      listFailedSignals(deps.pool, { since: new Date(now - windowSeconds * 1000), limit: 100 }),
      countStuckSignals(deps.pool, deps.thresholds.queueMaxAgeSeconds, deps.thresholds.liveAttemptSeconds),
    ]);
    const problems: string[] = [];
    const latest = failed[0];
    if (latest) {
      problems.push(
        `${failed.length >= 100 ? '100 or more' : failed.length} signal(s) failed to execute in the last ${windowSeconds} s and are still failed ` +
          `(latest ${latest.signalId}, ${latest.ticker} ${latest.action}: ${latest.error ?? 'no reason recorded'}); ` +
          'GET /api/signals?status=failed lists them, POST /api/signals/retry?since=... runs them again',
      );
    }
    if (stuck.stuck > 0) {
      problems.push(
        `${stuck.stuck} signal(s) stuck: executing or queued, unchanged for more than ${deps.thresholds.queueMaxAgeSeconds} s, with no job ` +
          `waiting or running for them (oldest ${stuck.oldestSignalId}); check each against the target, then ` +
          'POST /api/signals/<id>/settle?outcome=executed|failed&note=...',
      );
    }
    return {
      status: problems.length > 0 ? 'degraded' : 'healthy',
      detail: problems.length > 0 ? problems.join('; ') : `no signal failed in the last ${windowSeconds} s, none stuck`,
      failedRecently: failed.length,
      latestFailure: latest ?? null,
      stuck: stuck.stuck,
    };
  } catch (err) {
    return { status: 'degraded', detail: `executions unreadable: ${toError(err).message}` };
  }
}
