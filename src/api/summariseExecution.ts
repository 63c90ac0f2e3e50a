import type { ExecutionRow } from './executionJson.js';
import type { SignalRow } from './signalJson.js';

/**
 * A webhook's signal after the 200, in a few fields beside the webhook's own stages: its status (queued,
 * executing, executed, failed, declined), the outcome of its latest settled run, why it failed or was declined,
 * attempts and operator retries, and the time from the alert's receipt to its execution.
 */
export function summariseExecution(signal: SignalRow, executions: ExecutionRow[]) {
  const latest = executions[0]; // newest first
  return {
    signalId: signal.id,
    status: signal.status,
    outcome: latest?.outcome ?? null,
    executor: latest?.executor ?? null,
    attempts: signal.attempts,
    retries: signal.retries,
    error: signal.status === 'executed' ? null : signal.last_error,
    declineReason: signal.decline_reason,
    failedAt: signal.status === 'failed' ? (signal.failed_at?.toISOString() ?? null) : null,
    executedAt: signal.executed_at?.toISOString() ?? null,
    alertToFillMs: signal.executed_at ? signal.executed_at.getTime() - signal.received_at.getTime() : null,
  };
}
