import type { Pool } from '../db/makePool.js';
import { OutcomeUnknownError } from '../db/queryKnowingOutcome.js';
import { sqlStateOf } from '../db/sqlStateOf.js';
import { toError } from '../domain/errors.js';
import { insertSignals, type NewSignal } from './insertSignals.js';
import { settleUnknownBatch } from './settleUnknownBatch.js';

export interface SignalWriter {
  /**
   * Resolves once the signal (and its job) is committed, or is known to be a duplicate. Rejects with
   * SignalWriterOverloaded, before anything is written, when the signal would wait too long for its batch; with
   * OutcomeUnknownError when whether it was stored could not be found out; otherwise, nothing of it was stored.
   */
  write(signal: NewSignal): Promise<{ inserted: boolean }>;
  /** Signals waiting for a batch, plus those being written. */
  pending(): number;
  /** When (the writer's clock, ms) it last refused a signal to keep waits bounded; -Infinity if never. */
  lastRefusedAtMs(): number;
}

export interface SignalWriterOptions {
  /** Signals per statement at the most. */
  maxBatchSize: number;
  /** Statements in flight at once; the rest of the pool serves reads and duplicates. */
  maxConcurrentBatches: number;
  /** Signals allowed to wait; beyond it a write fails at once (503, so TradingView resends). */
  maxWaiting: number;
  /**
   * How long a signal may wait for its batch (ms). A signal that arrives while the oldest one waiting has
   * already waited longer, or that reaches the front after waiting longer, is refused (503 with Retry-After)
   * without being written. 0 = no bound (only maxWaiting).
   */
  maxQueueDelayMs?: number;
  /**
   * How long to spend at most finding out what became of a batch whose statement failed without an answer from
   * Postgres saying it rolled back (settleUnknownBatch): 500 ms unless given, and less when its oldest signal would
   * otherwise be answered later than ANSWER_BY_MS after it arrived (at least MIN_OUTCOME_CHECK_MS).
   */
  outcomeCheckMs?: number;
  /** Clock (ms, monotonic), for tests. */
  now?: () => number;
}

export const DEFAULT_OUTCOME_CHECK_MS = 500;
/**
 * TradingView waits 3 s for an answer. At the defaults a batch's oldest signal may have waited 250 ms for it
 * (SIGNAL_MAX_QUEUE_DELAY_MS) and 2,250 ms for the client to give up on its statement: the outcome check gets what
 * is left before 2.8 s, so that its answer still arrives in time.
 */
export const ANSWER_BY_MS = 2_800;
export const MIN_OUTCOME_CHECK_MS = 100;

/**
 * One statement in flight (SIGNAL_BATCHES_IN_FLIGHT): signals that arrive meanwhile wait for it and share the next.
 * Two in flight halved the batches for no gain on the 2-core bench machine, where Postgres shares the cores with the
 * service: its CPU was 809 against 656 µs a webhook at 1,000/s, and closed loop (50 connections) the pipeline
 * answered 4,651 against 5,164 req/s and the monitored service 3,946 against 4,451 (medians of four 5 s rounds,
 * alternating, 2026-11-30).
 */
export const DEFAULT_SIGNAL_WRITER_OPTIONS: SignalWriterOptions = { maxBatchSize: 100, maxConcurrentBatches: 1, maxWaiting: 5_000, maxQueueDelayMs: 250 };

/** The writer refused a signal to keep waits bounded; nothing of it was written. */
export class SignalWriterOverloaded extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignalWriterOverloaded';
  }
}

interface Waiter {
  signal: NewSignal;
  resolve: (r: { inserted: boolean }) => void;
  reject: (err: Error) => void;
  enqueuedAt: number;
}

/** Data errors (SQLSTATE classes 22 and 23) belong to one row: such a batch is retried row by row. */
function isRowError(err: unknown): boolean {
  // Whatever was thrown: a rejection with null or undefined is not a row's error (and must not throw here).
  return /^(22|23)/.test(sqlStateOf(err) ?? '');
}

/**
 * Group commit for signals. A signal that arrives while the database is idle is written at once, alone (no
 * timer, so no added latency at low rates); signals that arrive while a batch is being written wait and go
 * together in the next one. Under load each statement and commit serves many webhooks. A batch that fails for
 * a data error in one row is retried row by row, so one bad row never fails its neighbours.
 *
 * Admission control: the queue in front of the database is bounded in time, not only in length. Past the
 * rate the machine sustains, the queue (and every answer's wait) would otherwise grow until TradingView's 3 s
 * timeout; instead a signal that would wait longer than maxQueueDelayMs is refused at once, so the excess gets
 * a quick 503 (TradingView resends) and the signals admitted are answered within the bound.
 */
export function makeSignalWriter(pool: Pool, options: SignalWriterOptions = DEFAULT_SIGNAL_WRITER_OPTIONS): SignalWriter {
  const waiting: Waiter[] = [];
  const now = options.now ?? (() => performance.now());
  const maxDelay = options.maxQueueDelayMs ?? 0;
  let inFlight = 0;
  let inFlightSignals = 0;
  let lastRefusedAt = -Infinity;

  /** The answer of a batch that failed: each of its signals refused with the error. */
  function refusing(batch: Waiter[], err: unknown): () => void {
    const error = toError(err);
    return () => {
      for (const w of batch) w.reject(error);
    };
  }

  /**
   * Writes a batch; resolves with how to answer its signals, which the caller does once the next batch is on its
   * way (see pump). A batch refused for one row's data is written again row by row, each answered at once.
   */
  async function writeBatch(batch: Waiter[]): Promise<() => void> {
    try {
      const inserted = await insertSignals(pool, batch.map((w) => w.signal));
      return () => {
        for (const w of batch) w.resolve({ inserted: inserted.has(w.signal.id) });
      };
    } catch (err) {
      if (batch.length > 1 && isRowError(err)) {
        for (const w of batch) (await writeBatch([w]))();
        return () => undefined;
      }
      if (err instanceof OutcomeUnknownError) return settle(batch, err);
      return refusing(batch, err);
    }
  }

  /**
   * A batch that may have committed: its signals are answered by what became of it, once that is known, so that a
   * 503 never stands for a signal that was stored and will be executed (seen when the commit outlasted the
   * client's bound). Still unknown within outcomeCheckMs, they are refused with the OutcomeUnknownError itself.
   */
  async function settle(batch: Waiter[], err: OutcomeUnknownError): Promise<() => void> {
    let stored: Set<string>;
    try {
      const waited = now() - Math.min(...batch.map((w) => w.enqueuedAt));
      const budget = Math.max(MIN_OUTCOME_CHECK_MS, Math.min(options.outcomeCheckMs ?? DEFAULT_OUTCOME_CHECK_MS, ANSWER_BY_MS - waited));
      stored = await settleUnknownBatch(pool, err, batch.map((w) => w.signal.id), budget);
    } catch (checkError) {
      // Both reasons reach the log with the 503 (sendError logs the cause): why it was unknown, why it stayed so.
      return refusing(batch, new OutcomeUnknownError(`${err.message}; checking what became of it failed: ${toError(checkError).message}`, err.backendPid, { cause: err }));
    }
    if (stored.size === 0) return refusing(batch, new Error('the statement did not commit (checked once its session had ended)', { cause: err }));
    return () => {
      for (const w of batch) w.resolve({ inserted: stored.has(w.signal.id) });
    };
  }

  /** Refuses, unwritten, the signals at the front that have waited past the bound. */
  function refuseOverdue(at: number): void {
    while (maxDelay > 0 && waiting.length > 0 && at - waiting[0]!.enqueuedAt > maxDelay) {
      lastRefusedAt = at;
      waiting.shift()!.reject(new SignalWriterOverloaded(`the signal waited more than ${maxDelay} ms for the database`));
    }
  }

  function pump(): void {
    refuseOverdue(now());
    while (inFlight < options.maxConcurrentBatches && waiting.length > 0) {
      const batch = waiting.splice(0, options.maxBatchSize);
      inFlight += 1;
      inFlightSignals += batch.length;
      // writeBatch settles every failure into its answer; a rejection here would be a bug of ours, answered as the
      // batch's failure so that the writer never stays stuck with a batch counted in flight.
      const settled = writeBatch(batch).catch((err: unknown) => refusing(batch, err));
      void settled.then((answer) => {
        inFlight -= 1;
        inFlightSignals -= batch.length;
        // The next statement leaves before this batch is answered. Answering runs each webhook's continuation
        // (its reply, its trace), and with one batch in flight Postgres sat idle meanwhile: the pool hands a client
        // over on process.nextTick, which ran only after every answer's microtasks. Answered from the tick after
        // it, the statement is written first. Closed loop on the 2-core bench machine (bench/pacedPair.ts, four
        // alternating 5 s reps): the pipeline 4,396 against 4,012 req/s, the monitored service 3,467 against 3,335.
        try {
          pump();
        } finally {
          process.nextTick(answer);
        }
      });
    }
  }

  return {
    write(signal) {
      if (waiting.length >= options.maxWaiting) {
        lastRefusedAt = now();
        return Promise.reject(new SignalWriterOverloaded(`${options.maxWaiting} signals already wait to be written`));
      }
      const at = now();
      // Behind a signal that has already waited past the bound, this one would wait about as long: refused now.
      const behindMs = waiting.length > 0 ? at - waiting[0]!.enqueuedAt : 0;
      refuseOverdue(at);
      if (maxDelay > 0 && behindMs > maxDelay) {
        lastRefusedAt = at;
        return Promise.reject(new SignalWriterOverloaded(`signals already wait ${Math.round(behindMs)} ms for the database`));
      }
      return new Promise((resolve, reject) => {
        waiting.push({ signal, resolve, reject, enqueuedAt: at });
        pump();
      });
    },
    pending: () => waiting.length + inFlightSignals,
    lastRefusedAtMs: () => lastRefusedAt,
  };
}
