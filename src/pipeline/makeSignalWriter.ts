import type { Pool } from '../db/makePool.js';
import { toError } from '../domain/errors.js';
import { insertSignals, type NewSignal } from './insertSignals.js';

export interface SignalWriter {
  /** Resolves once the signal (and its job) is committed, or is known to be a duplicate. */
  write(signal: NewSignal): Promise<{ inserted: boolean }>;
  /** Signals waiting for a batch, plus those being written. */
  pending(): number;
}

export interface SignalWriterOptions {
  /** Signals per statement at the most. */
  maxBatchSize: number;
  /** Statements in flight at once; the rest of the pool serves reads and duplicates. */
  maxConcurrentBatches: number;
  /** Signals allowed to wait; beyond it a write fails at once (503, so TradingView resends). */
  maxWaiting: number;
}

export const DEFAULT_SIGNAL_WRITER_OPTIONS: SignalWriterOptions = { maxBatchSize: 100, maxConcurrentBatches: 2, maxWaiting: 5_000 };

interface Waiter {
  signal: NewSignal;
  resolve: (r: { inserted: boolean }) => void;
  reject: (err: Error) => void;
}

/** Data errors (SQLSTATE classes 22 and 23) belong to one row: such a batch is retried row by row. */
function isRowError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

/**
 * Group commit for signals. A signal that arrives while the database is idle is written at once, alone (no
 * timer, so no added latency at low rates); signals that arrive while a batch is being written wait and go
 * together in the next one. Under load each statement and commit serves many webhooks. A batch that fails for
 * a data error in one row is retried row by row, so one bad row never fails its neighbours.
 */
export function makeSignalWriter(pool: Pool, options: SignalWriterOptions = DEFAULT_SIGNAL_WRITER_OPTIONS): SignalWriter {
  const waiting: Waiter[] = [];
  let inFlight = 0;
  let inFlightSignals = 0;

  async function writeBatch(batch: Waiter[]): Promise<void> {
    try {
      const inserted = await insertSignals(pool, batch.map((w) => w.signal));
      for (const w of batch) w.resolve({ inserted: inserted.has(w.signal.id) });
    } catch (err) {
      if (batch.length > 1 && isRowError(err)) {
        for (const w of batch) await writeBatch([w]);
        return;
      }
      for (const w of batch) w.reject(toError(err));
    }
  }

  function pump(): void {
    while (inFlight < options.maxConcurrentBatches && waiting.length > 0) {
      const batch = waiting.splice(0, options.maxBatchSize);
      inFlight += 1;
      inFlightSignals += batch.length;
      void writeBatch(batch).finally(() => {
        inFlight -= 1;
        inFlightSignals -= batch.length;
        pump();
      });
    }
  }

  return {
    write(signal) {
      if (waiting.length >= options.maxWaiting) {
        return Promise.reject(new Error(`${options.maxWaiting} signals already wait to be written`));
      }
      return new Promise((resolve, reject) => {
        waiting.push({ signal, resolve, reject });
        pump();
      });
    },
    pending: () => waiting.length + inFlightSignals,
  };
}
