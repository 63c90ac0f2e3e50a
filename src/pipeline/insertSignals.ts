import type { Pool } from '../db/makePool.js';
import { queryKnowingOutcome } from '../db/queryKnowingOutcome.js';
import { EXECUTE_SIGNAL_TASK, makeExecuteSignalPayload } from '../domain/executeSignalJob.js';
import type { Signal } from '../domain/types.js';
import type { DedupeKey } from './makeDedupeKey.js';

export interface NewSignal {
  id: string;
  webhookId: string;
  signal: Signal;
  dedupe: DedupeKey;
  status: 'queued' | 'declined';
  declineReason: string | null;
  traceId: string | null;
  receivedAt: Date;
  /** W3C traceparent stored with the job, so that the worker's spans join the webhook's trace. */
  traceparent: string | null;
  maxAttempts: number;
}

/**
 * Inserts signals and, for those to be executed, their jobs, in ONE statement: one transaction and one round
 * trip for the whole batch. The dedupe exclusion constraint makes a duplicate's insert a no-op (also against
 * an earlier row of the same batch); only the rows inserted come back, and only they are enqueued. Jobs of one
 * symbol share a queue, and rows keep their order (`ord`), so a symbol's signals execute in the order they came.
 * A job's key is its signal id, so an operator finds the job of a signal by key.
 *
 * Rows are inserted in dedupe-key order (jobs still follow `ord`): a row whose key another transaction has
 * inserted but not committed waits for it, so two processes writing batches of the same alerts in different
 * orders would wait for each other. Measured with two pools, 50 shared keys in opposite orders: 6 to 8 of 30
 * rounds ended in a deadlock (40P01, a whole batch answered 503 after the 1 s deadlock_timeout); in key order,
 * none (tests/insertSignalsConcurrency.test.ts).
 *
 * Why a batch: measured on the 2-core bench machine, graphile_worker.add_job costs about 1.7 ms of Postgres
 * CPU per call, and a one-row insert statement with its commit about 0.65 ms; in batches of 50 the whole
 * signal-plus-job costs about 0.9 ms per row. makeSignalWriter forms the batches.
 */
const SQL = `
WITH input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(
    ord int, id uuid, webhook_id uuid, dedupe_key text, dedupe_until float8, ticker text, exchange text,
    action text, quantity numeric, price numeric, strategy text, "interval" text, alert_time float8,
    alert_id text, order_id text, market_position text, position_size numeric, prev_market_position text, prev_position_size numeric, extra jsonb, status text,
    decline_reason text, trace_id text, received_at float8, job_payload json, max_attempts int)
), inserted AS (
  INSERT INTO signals (id, webhook_id, dedupe_key, dedupe_until, ticker, exchange, action, quantity, price, strategy,
                       interval, alert_time, alert_id, order_id, market_position, position_size, prev_market_position, prev_position_size, extra,
                       status, decline_reason, trace_id, received_at)
  SELECT id, webhook_id, dedupe_key, COALESCE(to_timestamp(dedupe_until / 1000), 'infinity'), ticker, exchange, action, quantity, price, strategy,
         "interval", to_timestamp(alert_time / 1000), alert_id, order_id, market_position, position_size, prev_market_position, prev_position_size,
         COALESCE(extra, '{}'), status,
         decline_reason, trace_id, to_timestamp(received_at / 1000)
    FROM input
   ORDER BY dedupe_key, ord
  ON CONFLICT DO NOTHING
  RETURNING id, status
), job AS (
  SELECT count(*) AS n FROM graphile_worker.add_jobs((
    SELECT array_agg(ROW($2::text, input.job_payload,
                         'symbol:' || input.ticker, NULL, input.max_attempts, i.id::text, NULL, NULL)::graphile_worker.job_spec
                     ORDER BY input.ord)
      FROM inserted i JOIN input USING (id)
     WHERE i.status = 'queued'))
)
SELECT inserted.id, (SELECT n FROM job) AS jobs FROM inserted`;

/** A time for the batch's JSON: ms since the epoch, or null (also for an invalid Date, which JSON.stringify made null). */
function epochMs(at: Date | null): number | null {
  if (at === null) return null;
  const ms = at.getTime();
  return Number.isFinite(ms) ? ms : null;
}

/**
 * A signal as a row of the batch's JSON. Times travel as ms since the epoch (to_timestamp in the statement), not as
 * Date objects: JSON.stringify calls each Date's toJSON through its slow path, and with three a row that was two
 * thirds of the batch's serialisation (3.5 against 1.1 µs a signal alone). On the request path of the bench's
 * closed loop it was the main thread's costliest function: 19 µs a request in the pipeline, 31 in the monitored
 * service (bench/requestCost.js --profile).
 */
function toRow(s: NewSignal, ord: number) {
  const g = s.signal;
  return {
    ord, id: s.id, webhook_id: s.webhookId, dedupe_key: s.dedupe.key, dedupe_until: epochMs(s.dedupe.until), ticker: g.ticker,
    exchange: g.exchange, action: g.action, quantity: g.quantity, price: g.price, strategy: g.strategy, interval: g.interval,
    alert_time: epochMs(g.alertTime), alert_id: g.alertId, order_id: g.orderId, market_position: g.marketPosition,
    position_size: g.positionSize, prev_market_position: g.prevMarketPosition, prev_position_size: g.prevPositionSize, extra: g.extra, status: s.status, decline_reason: s.declineReason, trace_id: s.traceId,
    received_at: epochMs(s.receivedAt), job_payload: makeExecuteSignalPayload(s.id, s.traceparent), max_attempts: s.maxAttempts,
  };
}

/**
 * The statement's name: a prepared statement on each connection of the pool. pg sends its text (Parse) once per
 * connection, then only Bind and Execute. Sent without a name, Postgres parsed, analysed and planned it for every
 * batch: `node dist/bench/statementCost.js` put that at about 50 µs of Postgres CPU a signal in batches of ten
 * (208 against 155 µs, with its generic plan in use after five executions; 655 against 415 in batches of two).
 */
export const INSERT_SIGNALS_STATEMENT = 'tv_insert_signals';

/**
 * Returns the ids of the signals inserted; the others were duplicates. Rejects with OutcomeUnknownError when the
 * statement may have committed although it failed (see queryKnowingOutcome); any other rejection means nothing was
 * stored.
 */
export async function insertSignals(pool: Pool, signals: NewSignal[]): Promise<Set<string>> {
  const result = await queryKnowingOutcome<{ id: string }>(pool, { name: INSERT_SIGNALS_STATEMENT, text: SQL, values: [JSON.stringify(signals.map(toRow)), EXECUTE_SIGNAL_TASK] });
  return new Set(result.rows.map((r: { id: string }) => r.id));
}
