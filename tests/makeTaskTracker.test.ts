import assert from 'node:assert/strict';
import { makeTaskTracker } from '../src/execution/makeTaskTracker.js';

describe('makeTaskTracker: the worker knows when none of its task functions is running', () => {
  it('idle() resolves at once with nothing running, and otherwise only after the last task ends, failed or not', async () => {
    const tasks = makeTaskTracker();
    await tasks.idle();
    let finishA!: () => void;
    let failB!: (err: Error) => void;
    const a = tasks.track(() => new Promise<string>((resolve) => (finishA = () => resolve('a'))));
    const b = tasks.track(() => new Promise<string>((_resolve, reject) => (failB = reject)));
    let idle = false;
    const waiting = tasks.idle().then(() => (idle = true));
    assert.equal(tasks.running(), 2);

    finishA();
    assert.equal(await a, 'a');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(idle, false, 'one task still runs');

    failB(new Error('the order was refused'));
    await assert.rejects(b, /the order was refused/);
    await waiting;
    assert.equal(idle, true);
    assert.equal(tasks.running(), 0);
  });
});
