import assert from 'node:assert/strict';
import { makeRejectedRecordLimiter } from '../src/telemetry/makeRejectedRecordLimiter.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const allowed = (limiter: ReturnType<typeof makeRejectedRecordLimiter>, client: string, n: number, at: number) =>
  Array.from({ length: n }, () => limiter.allow(client, at)).filter(Boolean).length;

describe('rejected-record limiter: a global and a per-client bound over a rolling minute', () => {
  it('a client past its share is refused while others still get theirs, within the global bound', () => {
    const limiter = makeRejectedRecordLimiter({ perMinute: 10, perClientPerMinute: 4, maxClients: 100 });
    assert.equal(allowed(limiter, 'noisy', 50, T0), 4);
    assert.equal(allowed(limiter, 'b', 50, T0 + 1), 4);
    assert.equal(allowed(limiter, 'c', 50, T0 + 2), 2, 'the global bound of 10 is reached');
  });

  it('the minute rolls: half a minute into the next one, half of the last minute still counts', () => {
    const limiter = makeRejectedRecordLimiter({ perMinute: 0, perClientPerMinute: 10, maxClients: 100 });
    assert.equal(allowed(limiter, 'a', 10, T0 + 59_000), 10);
    assert.equal(allowed(limiter, 'a', 10, T0 + 60_000 + 30_000), 5, '10 x 0.5 of the previous minute + 5 = 10');
    assert.equal(allowed(limiter, 'a', 10, T0 + 3 * 60_000), 10, 'two minutes later nothing counts');
  });

  it('tracks at most maxClients clients, forgetting the one seen least recently', () => {
    const limiter = makeRejectedRecordLimiter({ perMinute: 0, perClientPerMinute: 1, maxClients: 3 });
    for (const c of ['a', 'b', 'c']) assert.equal(limiter.allow(c, T0), true);
    assert.equal(limiter.allow('a', T0), false, 'a is seen again: now the most recent');
    assert.equal(limiter.allow('d', T0), true);
    assert.equal(limiter.clients, 3);
    assert.equal(limiter.allow('a', T0), false, 'a is still tracked');
    assert.equal(limiter.allow('b', T0), true, 'b was forgotten');
  });

  it('0 means no bound', () => {
    const limiter = makeRejectedRecordLimiter({ perMinute: 0, perClientPerMinute: 0, maxClients: 10 });
    assert.equal(allowed(limiter, 'a', 1000, T0), 1000);
    assert.equal(limiter.clients, 0);
  });
});
