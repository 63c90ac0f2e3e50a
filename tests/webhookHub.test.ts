import assert from 'node:assert/strict';
import type { FinishedWebhook } from '../src/telemetry/finishedWebhook.js';
import { WebhookHub } from '../src/telemetry/webhookHub.js';

const webhook = (id: string) => ({ webhookId: id }) as unknown as FinishedWebhook;
const unexpected = (err: unknown) => assert.fail(String(err));

describe('WebhookHub: monitoring consumers run after the turn\'s answers, each isolated', () => {
  it('gives a deferred consumer the webhooks finished in a turn only after that turn, in order; an inline one at once', async () => {
    const hub = new WebhookHub();
    const inline: string[] = [];
    const deferred: string[] = [];
    hub.attach((w) => void inline.push(w.webhookId), unexpected);
    hub.attach((w) => void deferred.push(w.webhookId), unexpected, { deferred: true });
    for (const id of ['a', 'b', 'c']) hub.finish(webhook(id));
    assert.deepEqual(inline, ['a', 'b', 'c']);
    assert.deepEqual(deferred, [], 'nothing while the answers of this turn are being written');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(deferred, ['a', 'b', 'c']);
  });

  it('drain delivers what is pending at once (the service drains before detaching its consumers at shutdown)', () => {
    const hub = new WebhookHub();
    const seen: string[] = [];
    const detach = hub.attach((w) => void seen.push(w.webhookId), unexpected, { deferred: true });
    hub.finish(webhook('last'));
    hub.drain();
    detach();
    assert.deepEqual(seen, ['last']);
  });

  it('a deferred consumer that throws is isolated: its error goes to its onError, the others still get every webhook', async () => {
    const hub = new WebhookHub();
    const errors: string[] = [];
    const seen: string[] = [];
    hub.attach(() => { throw new Error('broken sink'); }, (err) => void errors.push((err as Error).message), { deferred: true });
    hub.attach((w) => void seen.push(w.webhookId), unexpected, { deferred: true });
    hub.finish(webhook('x'));
    hub.finish(webhook('y'));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(errors, ['broken sink', 'broken sink']);
    assert.deepEqual(seen, ['x', 'y']);
  });
});
