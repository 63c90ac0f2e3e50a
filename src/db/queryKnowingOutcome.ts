import pg from 'pg';
import { toError } from '../domain/errors.js';
import { verifiedBackendPid } from './backendPid.js';
import type { Pool } from './makePool.js';

/**
 * A statement whose commit may or may not have happened: it was sent, and no answer from Postgres says what
 * became of it. Postgres's statement_timeout ends with the statement's execution; the commit that follows (the
 * WAL flush, a synchronous standby's confirmation, the lock every NOTIFY takes at commit) runs with no timer, so
 * the client's own bound can fire while the commit is still under way, and a lost connection says nothing either.
 * `backendPid` is the server session that ran it, when known for sure (see backendPid.ts): until that session has
 * ended, the transaction can still commit. Null behind a pooler, whose pid is not the session's.
 */
export class OutcomeUnknownError extends Error {
  readonly backendPid: number | null;

  constructor(message: string, backendPid: number | null, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = 'OutcomeUnknownError';
    this.backendPid = backendPid;
  }
}

/** The session ended or the connection failed: class 57P (shut down, crashed, terminated) and class 08. */
function endsSession(state: string): boolean {
  return state.startsWith('57P') || state.startsWith('08');
}

/**
 * Whether an error of a query proves that its transaction did not commit: Postgres answered the statement with an
 * error of severity ERROR (a constraint, its statement_timeout, a deadlock), which rolls it back and leaves the
 * session usable. Not proof: anything without an answer from the server (pg's own query_timeout, a connection that
 * closed or reset); the server ending the session (class 57P, class 08), which can come after a commit that went
 * through; a FATAL or PANIC (a failed WAL flush at commit is a PANIC, and the commit may survive it in recovery).
 * An error whose severity is in another language (lc_messages) is not proof here either; queryKnowingOutcome then
 * asks the session whether it is still usable.
 */
export function provesRollback(err: unknown): boolean {
  if (!(err instanceof pg.DatabaseError)) return false;
  const state = err.code ?? '';
  return err.severity === 'ERROR' && /^[0-9A-Z]{5}$/.test(state) && !endsSession(state);
}

/**
 * Runs one statement (its own transaction) on a connection of its own, and rejects with OutcomeUnknownError when it
 * failed without proof that it rolled back (see provesRollback); any other failure (no connection to be had, an
 * error from Postgres that rolled the statement back) is rethrown as it was, and means that nothing was committed.
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
      let sent: Promise<pg.QueryResult<R>>;
      try {
        sent = client.query<R>(query);
      } catch (thrown) {
        // Refused before anything was sent (the driver checks its arguments synchronously).
        release(toError(thrown));
        reject(thrown);
        return;
      }
      sent.then(
        (result) => {
          release();
          resolve(result);
        },
        (err: unknown) =>
          void settleFailure(client, release, err).then(reject, (thrown: unknown) =>
            // Not expected (settleFailure catches what it calls); should it throw, the caller must still get an answer,
            // and one that claims nothing.
            reject(new OutcomeUnknownError(`the statement's failure could not be classified: ${toError(thrown).message}`, null, { cause: err })),
          ),
      );
    });
  });
}

/** How long a session whose error was in another language has to answer that it is still usable. */
const PROBE_TIMEOUT_MS = 200;

/** What a failed statement's rejection is: the error itself when it proves a rollback, else OutcomeUnknownError. */
async function settleFailure(client: pg.PoolClient, release: (err?: Error | boolean) => void, err: unknown): Promise<unknown> {
  let proven = provesRollback(err);
  if (!proven && err instanceof pg.DatabaseError && !endsSession(err.code ?? '') && err.severity !== 'FATAL' && err.severity !== 'PANIC') {
    // A severity in another language: an ERROR leaves the session usable, a FATAL or PANIC does not.
    // Briefly: the check of the outcome, if needed, comes after this and has its own budget.
    proven = await client.query({ text: 'SELECT 1', query_timeout: PROBE_TIMEOUT_MS } as pg.QueryConfig).then(() => true, () => false);
  }
  const error = toError(err);
  const pid = verifiedBackendPid(client);
  // As pool.query does: a client whose query failed is closed, never handed out again.
  release(error);
  return proven ? err : new OutcomeUnknownError(`no answer from Postgres says whether the statement committed: ${error.message}`, pid, { cause: err });
}
