import type { PoolClient } from 'pg';
import type { Signal } from '../domain/types.js';

export const EXECUTOR_NAMES = ['paper', 'forward'] as const;
export type ExecutorName = (typeof EXECUTOR_NAMES)[number];

/** The signal as an executor sees it: the normalised signal (without the sender's extra fields) and its ids. */
export interface ExecutableSignal extends Omit<Signal, 'extra'> {
  id: string;
  webhookId: string;
  receivedAt: Date;
}

export interface FillResult {
  quantity: number | null;
  price: number | null;
}

export interface ExecutionEffect {
  outcome: 'filled' | 'forwarded';
  /** What the execution target answered (bounded), kept with the execution record. */
  response?: unknown;
  quantity?: number | null;
  price?: number | null;
  /**
   * Effects in our own database (the paper book). They run in the transaction that records the execution,
   * so they happen exactly once with it, however often the job runs.
   */
  commit?: (tx: PoolClient) => Promise<FillResult>;
}

/**
 * Carries out a signal. Throws PermanentExecutionError when retrying cannot help; anything else thrown is
 * treated as transient and retried with backoff. Adding a broker is one new file implementing this.
 */
export interface Executor {
  readonly name: ExecutorName;
  execute(signal: ExecutableSignal): Promise<ExecutionEffect>;
}

/** Retrying cannot help (a 4xx from the target, a signal that cannot be filled): fail the signal now. */
export class PermanentExecutionError extends Error {
  override name = 'PermanentExecutionError';
}

/** The fields of a signal that its execution record repeats. */
export interface StoredSignalRef {
  id: string;
  ticker: string;
  action: string;
  /** The run of the signal (0, then one more per operator retry): one settlement row per run. */
  retries: number;
}
