import { Webhook } from 'standardwebhooks';
import { toStorableText } from '../domain/storableText.js';
import { type ExecutableSignal, type Executor, PermanentExecutionError } from './executor.js';

/** At most this much of the target's answer is kept with the execution record. */
export const MAX_RESPONSE_BYTES = 4096;

/**
 * HTTP statuses worth retrying: the target may succeed later. Other 4xx mean the request itself is wrong. 409 is
 * what a bridge that honours Idempotency-Key answers while the first request with the same key is still being
 * processed (the IETF Idempotency-Key header draft): failing the signal then would show a failure for an order
 * that went through; the retry gets the first request's answer.
 */
const RETRYABLE_STATUSES = new Set([408, 409, 425, 429]);

export function forwardPayload(signal: ExecutableSignal) {
  return {
    signalId: signal.id,
    webhookId: signal.webhookId,
    ticker: signal.ticker,
    exchange: signal.exchange,
    action: signal.action,
    quantity: signal.quantity,
    price: signal.price,
    strategy: signal.strategy,
    interval: signal.interval,
    alertTime: signal.alertTime?.toISOString() ?? null,
    alertId: signal.alertId,
    orderId: signal.orderId,
    marketPosition: signal.marketPosition,
    positionSize: signal.positionSize,
    receivedAt: signal.receivedAt.toISOString(),
  };
}

/** Reads at most `limit` bytes of a response body, then stops reading. */
async function readBounded(response: Response, limit: number): Promise<{ text: string; truncated: boolean }> {
  if (!response.body) return { text: '', truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size > limit) {
      truncated = true;
      await reader.cancel().catch(() => undefined);
      break;
    }
  }
  const text = Buffer.concat(chunks).subarray(0, limit).toString('utf8');
  return { text, truncated };
}

/**
 * Forwards the normalised signal as JSON to FORWARD_URL (a broker bridge). `Idempotency-Key` is the signal id,
 * so a bridge can drop the second copy of a retried call; optionally signed with Standard Webhooks.
 * 2xx = executed (even when its body arrives too slowly to be read whole); 408/409/425/429/5xx/network errors/timeouts =
 * retried; 3xx (not followed) and other 4xx = failed at once.
 */
export function makeForwardExecutor(options: { url: string; timeoutMs: number; signingSecret?: string }): Executor {
  const signer = options.signingSecret ? new Webhook(options.signingSecret) : undefined;
  return {
    name: 'forward',
    async execute(signal) {
      const body = JSON.stringify(forwardPayload(signal));
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'idempotency-key': signal.id,
        'user-agent': 'tv-webhook-forwarder',
      };
      if (signer) {
        const now = new Date();
        headers['webhook-id'] = signal.id;
        headers['webhook-timestamp'] = String(Math.floor(now.getTime() / 1000));
        headers['webhook-signature'] = signer.sign(signal.id, now, body);
      }
      let response: Response;
      try {
        // Redirects are not followed: fetch would send the order again as a GET to wherever it points, and that
        // GET's 200 would count as the order placed.
        response = await fetch(options.url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(options.timeoutMs) });
      } catch (err) {
        const e = err as Error;
        if (e.name === 'TimeoutError') throw new Error(`forward target did not answer within FORWARD_TIMEOUT_MS (${options.timeoutMs} ms)`);
        throw new Error(`forward target unreachable: ${(e.cause as Error | undefined)?.message ?? e.message}`);
      }
      let answer: { text: string; truncated: boolean };
      try {
        answer = await readBounded(response, MAX_RESPONSE_BYTES);
      } catch (err) {
        // The status is the target's answer. A 2xx whose body is cut short (the time ran out while it arrived) is
        // still an order placed: sending it again would place a second one with a bridge that does not deduplicate.
        const e = err as Error;
        answer = { text: `(the answer's body was not read whole: ${e.name === 'TimeoutError' ? 'FORWARD_TIMEOUT_MS ran out' : e.message})`, truncated: true };
      }
      // The bridge's words are kept in jsonb and text columns: a NUL in them failed the statement that records the
      // execution, and the order was sent again at every attempt.
      const text = toStorableText(answer.text);
      const { truncated } = answer;
      const kept = { status: response.status, body: text, truncated };
      if (response.ok) return { outcome: 'forwarded', response: kept, quantity: signal.quantity, price: signal.price };
      if (response.status >= 300 && response.status < 400) {
        throw new PermanentExecutionError(
          `forward target answered ${response.status} (a redirect${response.headers.get('location') ? ` to ${response.headers.get('location')!.slice(0, 200)}` : ''}): FORWARD_URL must be the address that takes the order; redirects are not followed`,
        );
      }
      // Cut after 200 UTF-16 units, which can split an emoji: made storable again after the cut.
      const summary = toStorableText(`forward target answered ${response.status}: ${text.slice(0, 200)}`);
      if (response.status >= 500 || RETRYABLE_STATUSES.has(response.status)) throw new Error(summary);
      throw new PermanentExecutionError(summary);
    },
  };
}
