import pg from 'pg';
import { toError } from '../domain/errors.js';
import type { Pool } from './makePool.js';

/**
 * A statement whose commit may or may not have happened: it was sent, and no answer from Postgres says what
 * became of it. Postgres's statement_timeout ends with the statement's execution; the commit that follows (the
 * WAL flush, a synchronous standby's confirmation, the lock every NOTIFY takes at commit) runs with no timer, so
 * the client's own bound can fire while the commit is still under way, and a lost connection says nothing either.
 * `backendPid` is the session that ran it (null when none was ever reported): until that session has ended, the
 * transaction can still commit.
 */
export class OutcomeUnknownError extends Error {
  readonly backendPid: number | null;

  constructor(message: string, backendPid: number | null, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = 'OutcomeUnknownError';
    this.backendPid = backendPid;
  }
}

/**
 * Whether an error of a query proves that its transaction did not commit: Postgres answered with an error for the
 * statement (a constraint, its statement_timeout, a deadlock), which rolls it back. Not proof: anything without an
 * answer from the server (pg's own query_timeout, a connection that closed or reset), and the server ending the
 * session itself (class 57P: shut down, crashed, terminated by an operator; class 08: the connection), which can
 * arrive after a commit that went through.
 */
export function provesRollback(err: unknown): boolean {
  if (!(err instanceof pg.DatabaseError)) return false;
  const state = err.code ?? '';
  return /^[0-9A-Z]{5}$/.test(state) && !state.startsWith('57P') && !state.startsWith('08');
}

/**
 * Runs one statement (its own transaction) on a connection of its own, and rejects with OutcomeUnknownError when it
 * failed without proof that it rolled back (see provesRollback); any other failure (no connection to be had, an
 * error from Postgres) is rethrown as it was, and means that nothing was committed.
 *
 * The statement is sent in the pool's own callback, in the tick that lends the connection. Awaiting
 * `pool.connect()` would send it only after every callback already queued for the next tick: the signal writer
 * queues its batch's answers there right after starting the next batch, and the statement must leave first
 * (makeSignalWriter's pump; tests/signalWriter.test.ts checks the order).
 */
export function queryKnowingOutcome<R extends pg.QueryResultRow>(pool: Pool, query: pg.QueryConfig): Promise<pg.QueryResult<R>> {
  return new Promise((resolve, reject) => {
    pool.connect((connectError, client, release) => {
      if (connectError || !client) {
        reject(connectError ?? new Error('the pool lent no connection'));
        return;
      }
      client.query<R>(query).then(
        (result) => {
          release();
          resolve(result);
        },
        (err: unknown) => {
          // As pool.query does: a client whose query failed is closed, never handed out again.
          const error = toError(err);
          const pid = (client as unknown as { processID?: number | null }).processID ?? null;
          release(error);
          if (provesRollback(err)) reject(err);
          else reject(new OutcomeUnknownError(`no answer from Postgres says whether the statement committed: ${error.message}`, pid, { cause: err }));
        },
      );
    });
  });
}
