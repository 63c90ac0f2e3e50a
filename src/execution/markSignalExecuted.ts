import { uuidv7 } from 'uuidv7';
import type { Pool } from '../db/makePool.js';
import type { ExecutionEffect, ExecutorName, StoredSignalRef } from './executor.js';

/**
 * Settles the signal as `executed` and stores its execution row, in one transaction with the executor's
 * own database effects. The unique signal_id makes a second run a no-op: its effects are rolled back.
 * Returns false when the signal already had an execution.
 */
export async function markSignalExecuted(
  pool: Pool,
  input: { signal: StoredSignalRef; executor: ExecutorName; effect: ExecutionEffect; attempt: number; startedAt: Date; traceId: string | null },
): Promise<boolean> {
  const tx = await pool.connect();
  try {
    await tx.query('BEGIN');
    const fill = input.effect.commit
      ? await input.effect.commit(tx)
      : { quantity: input.effect.quantity ?? null, price: input.effect.price ?? null };
    const completedAt = new Date();
    const inserted = await tx.query(
      `INSERT INTO executions (id, signal_id, executor, outcome, ticker, action, quantity, price, response, attempt, trace_id,
                               started_at, completed_at, duration_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
       ON CONFLICT (signal_id) DO NOTHING`,
      [
        uuidv7(),
        input.signal.id,
        input.executor,
        input.effect.outcome,
        input.signal.ticker,
        input.signal.action,
        fill.quantity,
        fill.price,
        input.effect.response === undefined ? null : JSON.stringify(input.effect.response),
        input.attempt,
        input.traceId,
        input.startedAt,
        completedAt,
        completedAt.getTime() - input.startedAt.getTime(),
      ],
    );
    if (inserted.rowCount !== 1) {
      await tx.query('ROLLBACK');
      return false;
    }
    await tx.query(
      `UPDATE signals SET status = 'executed', executed_at = $2, last_error = NULL, updated_at = now() WHERE id = $1`,
      [input.signal.id, completedAt],
    );
    await tx.query('COMMIT');
    return true;
  } catch (err) {
    await tx.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    tx.release();
  }
}
