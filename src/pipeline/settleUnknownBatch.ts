import type { Pool } from '../db/makePool.js';
import type { OutcomeUnknownError } from '../db/queryKnowingOutcome.js';
import { waitForBackendExit } from '../db/waitForBackendExit.js';
import { findStoredSignalIds } from './findStoredSignalIds.js';

/**
 * What became of a batch of signals whose statement's outcome is unknown (OutcomeUnknownError): the session that
 * ran it is ended and awaited, so its transaction can no longer commit, then the signals are looked up by id.
 * Resolves with the ids stored: all of the batch's new signals when its transaction committed (the others were
 * duplicates, which the statement skips), none when it rolled back. Rejects when that cannot be known within
 * `budgetMs`: Postgres does not answer, the session does not end, or the session is not known (behind a pooler)
 * and none of the signals is stored yet.
 */
export async function settleUnknownBatch(pool: Pool, error: OutcomeUnknownError, ids: readonly string[], budgetMs: number): Promise<Set<string>> {
  const deadline = performance.now() + budgetMs;
  const check = (async () => {
    if (error.backendPid === null) {
      // The session cannot be ended (a pooler in between hides it): signals found were stored, but none found
      // proves nothing, since the statement may still be waiting in the pooler's queue or at its commit.
      const stored = await findStoredSignalIds(pool, ids);
      if (stored.size === 0) throw new Error('the session that ran the statement cannot be identified, so signals not found yet may still be stored');
      return stored;
    }
    await waitForBackendExit(pool, error.backendPid, deadline);
    return findStoredSignalIds(pool, ids);
  })();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`whether the signals were stored could not be checked within ${budgetMs} ms`)), budgetMs);
  });
  try {
    return await Promise.race([check, late]);
  } finally {
    clearTimeout(timer);
    // A check still running past the budget is bounded by the pool's own timeouts; its result is not needed.
    check.catch(() => undefined);
  }
}
