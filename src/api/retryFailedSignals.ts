import { WebhookError } from '../domain/errors.js';
import { listFailedSignalIds } from './listFailedSignalIds.js';
import { type RetryDeps, type RetryOutcome, retrySignal } from './retrySignal.js';

type BulkItem = RetryOutcome | { signalId: string; result: 'skipped'; message: string };

/**
 * Recovery after an outage: every signal failed since a time, retried one by one in the order they were received
 * (so that a symbol's signals keep their order on its queue), each as retrySignal does it. With dryRun nothing
 * changes and the answer lists what would run and what the policy would decline now. A signal that stopped being
 * failed meanwhile (retried by someone else) is skipped. At most `limit` signals per call; `more` says whether
 * others are left (call again: those retried are no longer failed).
 */
export async function retryFailedSignals(
  deps: RetryDeps,
  filter: { since: Date; until?: Date; limit: number },
  options: { dryRun: boolean; clientAddress: string | null },
) {
  const ids = await listFailedSignalIds(deps.pool, { ...filter, limit: filter.limit + 1 });
  const more = ids.length > filter.limit;
  const signals: BulkItem[] = [];
  for (const id of ids.slice(0, filter.limit)) {
    try {
      signals.push(await retrySignal(deps, id, options));
    } catch (err) {
      if (!(err instanceof WebhookError) || err.code !== 'WH_ERR_CONFLICT') throw err;
      signals.push({ signalId: id, result: 'skipped', message: err.message });
    }
  }
  const count = (result: BulkItem['result']) => signals.filter((s) => s.result === result).length;
  return {
    dryRun: options.dryRun,
    since: filter.since.toISOString(),
    until: filter.until?.toISOString() ?? null,
    counts: { queued: count('queued'), declined: count('declined'), skipped: count('skipped') },
    more,
    signals,
  };
}
