import assert from 'node:assert/strict';
import type { FinishedWebhook } from '../src/telemetry/finishedWebhook.js';
import { WebhookHub } from '../src/telemetry/webhookHub.js';

const webhook = (id: string) => ({ webhookId: id }) as unknown as FinishedWebhook;
const unexpected = (err: unknown) => assert.fail(String(err));
const nextTurn = () => new Promise((r) => setImmediate(r));

describe('WebhookHub: monitoring consumers run after the answers, in batches, each isolated', () => {
  it('gives an inline consumer each webhook at once, a deferred one only after the turn, when the batch is due', async () => {
    const hub = new WebhookHub();
    hub.delayMs = 60_000;
    const inline: string[] = [];
    const deferred: string[] = [];
    hub.attach((w) => void inline.push(w.webhookId), unexpected);
    hub.attach((w) => void deferred.push(w.webhookId), unexpected, { deferred: true });
    for (const id of ['a', 'b', 'c']) hub.finish(webhook(id));
    assert.deepEqual(inline, ['a', 'b', 'c']);
    await nextTurn();
    assert.deepEqual(deferred, [], 'not before the batch is due');
    hub.drain();
    assert.deepEqual(deferred, ['a', 'b', 'c']);
  });

  it('hands a batch over consumer by consumer: each goes through every webhook before the next consumer starts', () => {
    const hub = new WebhookHub();
    const log: string[] = [];
    hub.attach((w) => void log.push(`metrics ${w.webhookId}`), unexpected, { deferred: true });
    hub.attach((w) => void log.push(`record ${w.webhookId}`), unexpected, { deferred: true });
    hub.finish(webhook('a'));
    hub.finish(webhook('b'));
    hub.drain();
    assert.deepEqual(log, ['metrics a', 'metrics b', 'record a', 'record b']);
  });

  it('is bounded: once maxPending webhooks wait, the batch goes on the next turn, whatever the delay', async () => {
    const hub = new WebhookHub(3);
    hub.delayMs = 60_000;
    const seen: string[] = [];
    hub.attach((w) => void seen.push(w.webhookId), unexpected, { deferred: true });
    hub.finish(webhook('a'));
    hub.finish(webhook('b'));
    await nextTurn();
    assert.deepEqual(seen, []);
    hub.finish(webhook('c'));
    assert.deepEqual(seen, [], 'not on the turn that answered it');
    await nextTurn();
    assert.deepEqual(seen, ['a', 'b', 'c']);
    hub.finish(webhook('d'));
    hub.drain();
    assert.deepEqual(seen, ['a', 'b', 'c', 'd'], 'the timer of the next batch was started again');
  });

  it('delivers a batch within delayMs on its own', async () => {
    const hub = new WebhookHub();
    hub.delayMs = 1;
    const seen: string[] = [];
    hub.attach((w) => void seen.push(w.webhookId), unexpected, { deferred: true });
    hub.finish(webhook('a'));
    await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(seen, ['a']);
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

  it('a deferred consumer that throws is isolated: its error goes to its onError, the others still get every webhook', () => {
    const hub = new WebhookHub();
    const errors: string[] = [];
    const seen: string[] = [];
    hub.attach(() => { throw new Error('broken sink'); }, (err) => void errors.push((err as Error).message), { deferred: true });
    hub.attach((w) => void seen.push(w.webhookId), unexpected, { deferred: true });
    hub.finish(webhook('x'));
    hub.finish(webhook('y'));
    hub.drain();
    assert.deepEqual(errors, ['broken sink', 'broken sink']);
    assert.deepEqual(seen, ['x', 'y']);
  });
});
