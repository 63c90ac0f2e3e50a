export interface ExecutionRow {
  id: string;
  signal_id: string;
  executor: string;
  outcome: string;
  ticker: string;
  action: string;
  quantity: number | null;
  price: number | null;
  response: unknown;
  error: string | null;
  attempt: number;
  trace_id: string | null;
  started_at: Date;
  completed_at: Date;
  duration_ms: number;
}

export const EXECUTION_COLUMNS = `id, signal_id, executor, outcome, ticker, action, quantity, price, response, error, attempt,
  trace_id, started_at, completed_at, duration_ms`;

export function executionJson(row: ExecutionRow) {
  return {
    id: row.id,
    signalId: row.signal_id,
    executor: row.executor,
    outcome: row.outcome,
    ticker: row.ticker,
    action: row.action,
    quantity: row.quantity,
    price: row.price,
    response: row.response,
    error: row.error,
    attempt: row.attempt,
    traceId: row.trace_id,
    startedAt: row.started_at.toISOString(),
    completedAt: row.completed_at.toISOString(),
    durationMs: row.duration_ms,
  };
}
