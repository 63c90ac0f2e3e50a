import { newId } from '../domain/newId.js';
import type { Pool } from '../db/makePool.js';
import { toStorableText } from '../domain/storableText.js';
import type { ExecutionEffect, ExecutorName, StoredSignalRef } from './executor.js';

/**
 * Settles the signal as `executed` and stores its execution row, in one transaction with the executor's
 * own database effects. A signal has at most one execution with an effect (unique index executions_one_effect,
 * across operator retries too) and one settlement row per run: a second run is a no-op, its effects rolled back.
 * Returns false when the signal already had an execution, other than this one: for a sent order (with its
 * `completedAt`), finding its own row (a COMMIT that went through while its answer was lost) returns true.
 */
export async function markSignalExecuted(
  pool: Pool,
  input: {
    signal: StoredSignalRef;
    executor: ExecutorName;
    effect: ExecutionEffect;
    attempt: number;
    startedAt: Date;
    /** When the target answered, for an order recorded after it went out (see SentEffect); otherwise now. */
    completedAt?: Date;
    traceId: string | null;
  },
): Promise<boolean> {
  const tx = await pool.connect();
  try {
    await tx.query('BEGIN');
    const fill = input.effect.commit
      ? await input.effect.commit(tx)
      : { quantity: input.effect.quantity ?? null, price: input.effect.price ?? null };
    const completedAt = input.completedAt ?? new Date();
    const inserted = await tx.query(
      `INSERT INTO executions (id, signal_id, executor, outcome, ticker, action, quantity, price, response, attempt, trace_id,
                               started_at, completed_at, duration_ms, retry)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
       ON CONFLICT DO NOTHING`,
      [
        newId(),
        input.signal.id,
        input.executor,
        input.effect.outcome,
        input.signal.ticker,
        input.signal.action,
        fill.quantity,
        fill.price,
        input.effect.response === undefined ? null : JSON.stringify(input.effect.response, storableStrings),
        input.attempt,
        input.traceId,
        input.startedAt,
        completedAt,
        completedAt.getTime() - input.startedAt.getTime(),
        input.signal.retries,
      ],
    );
    if (inserted.rowCount !== 1) {
      await tx.query('ROLLBACK');
      if (input.completedAt === undefined) return false;
      const { rowCount } = await tx.query(
        `SELECT 1 FROM executions
          WHERE signal_id = $1 AND retry = $2 AND attempt = $3 AND started_at = $4 AND completed_at = $5 AND outcome = $6`,
        [input.signal.id, input.signal.retries, input.attempt, input.startedAt, input.completedAt, input.effect.outcome],
      );
      return rowCount === 1;
    }
    await tx.query(
      `UPDATE signals SET status = 'executed', executed_at = $2, last_error = NULL, unrecorded_effect = NULL, updated_at = now() WHERE id = $1`,
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

/** JSON.stringify's replacer: what an executor kept of its target's answer, storable in jsonb (see toStorableText). */
function storableStrings(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? toStorableText(value) : value;
}
