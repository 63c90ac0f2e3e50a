import type { PoolClient } from 'pg';
import { applyFill, type Position } from './applyFill.js';
import { type Executor, PermanentExecutionError } from './executor.js';

/**
 * Paper trading: fills at the signal's price and keeps a position per symbol in Postgres. The position update
 * is a `commit` effect, so it lands in the same transaction as the execution record: once per signal.
 */
export function makePaperExecutor(): Executor {
  return {
    name: 'paper',
    async execute(signal) {
      if (signal.price === null) {
        throw new PermanentExecutionError('The signal has no price, so the paper executor cannot fill it: add "price": "{{close}}" to the alert message.');
      }
      if (signal.action !== 'close' && signal.quantity === null) {
        throw new PermanentExecutionError('The signal has no quantity, so the paper executor cannot fill it: add "quantity": "{{strategy.order.contracts}}" to the alert message.');
      }
      const price = signal.price;
      return {
        outcome: 'filled',
        commit: async (tx: PoolClient) => {
          const current = await lockPosition(tx, signal.ticker);
          const fill = applyFill(current, signal.action, signal.quantity, price);
          await tx.query(
            `UPDATE positions SET quantity = $2, average_price = $3, realized_pnl = $4, last_signal_id = $5, updated_at = now()
              WHERE ticker = $1`,
            [signal.ticker, fill.position.quantity, fill.position.averagePrice, fill.position.realizedPnl, signal.id],
          );
          return { quantity: Math.abs(fill.delta), price };
        },
      };
    },
  };
}

/** The symbol's position row, created flat if new, locked for the rest of the transaction. */
async function lockPosition(tx: PoolClient, ticker: string): Promise<Position> {
  await tx.query('INSERT INTO positions (ticker) VALUES ($1) ON CONFLICT (ticker) DO NOTHING', [ticker]);
  const { rows } = await tx.query<{ quantity: number; average_price: number; realized_pnl: number }>(
    'SELECT quantity, average_price, realized_pnl FROM positions WHERE ticker = $1 FOR UPDATE',
    [ticker],
  );
  const row = rows[0]!;
  return { quantity: row.quantity, averagePrice: row.average_price, realizedPnl: row.realized_pnl };
}
