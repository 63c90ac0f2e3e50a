import type { Pool } from '../db/makePool.js';
import { OutcomeUnknownError } from '../db/queryKnowingOutcome.js';
import type { AcceptedAnswer } from '../domain/types.js';
import { WebhookError } from '../domain/errors.js';
import { findDuplicateSignal } from './findDuplicateSignal.js';
import type { NewSignal } from './insertSignals.js';
import { OVERLOAD_RETRY_AFTER_SECONDS } from './makeLoadShedder.js';
import { type SignalWriter, SignalWriterOverloaded } from './makeSignalWriter.js';

/**
 * Persist and enqueue: the promise behind a 200. Any database failure here becomes 503 WH_ERR_UNAVAILABLE,
 * so that TradingView resends (5 s later, up to 3 times) instead of the alert being lost; a signal the writer
 * refused to keep waits bounded becomes 503 WH_ERR_OVERLOADED with Retry-After, nothing of it stored. A signal whose
 * statement may have committed, and whose fate could not be found out in time, becomes 503 WH_ERR_OUTCOME_UNKNOWN:
 * its resend is answered `duplicate` if it was stored, and stored if it was not.
 */
export async function storeSignal(pool: Pool, writer: SignalWriter, s: NewSignal): Promise<AcceptedAnswer> {
  try {
    const { inserted } = await writer.write(s);
    if (inserted) {
      return s.status === 'declined'
        ? { status: 'declined', webhookId: s.webhookId, signalId: s.id, reason: s.declineReason as AcceptedAnswer['reason'] }
        : { status: 'accepted', webhookId: s.webhookId, signalId: s.id };
    }
    const original = await findDuplicateSignal(pool, s.dedupe, s.receivedAt);
    if (!original) throw new Error('dedupe conflict reported but no original signal found');
    return { status: 'duplicate', webhookId: s.webhookId, signalId: original.id };
  } catch (err) {
    if (err instanceof SignalWriterOverloaded) {
      throw new WebhookError(
        'WH_ERR_OVERLOADED',
        'The service is receiving more alerts than it can store right now, so this one was not accepted. TradingView resends on this answer; other senders should retry after Retry-After seconds.',
        { cause: err, headers: { 'Retry-After': OVERLOAD_RETRY_AFTER_SECONDS } },
      );
    }
    if (err instanceof OutcomeUnknownError) {
      throw new WebhookError(
        'WH_ERR_OUTCOME_UNKNOWN',
        'The database did not confirm in time whether this signal was stored: it may have been, and then it will be executed. Resending the same alert is safe: if it was stored, the resend is answered as a duplicate and not executed again.',
        { cause: err, details: { signalId: s.id } },
      );
    }
    throw new WebhookError(
      'WH_ERR_UNAVAILABLE',
      'The signal could not be stored, so it was not accepted. TradingView resends on this answer; other senders should retry.',
      { cause: err },
    );
  }
}
