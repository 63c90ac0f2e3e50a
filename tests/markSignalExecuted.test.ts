import assert from 'node:assert/strict';
import { markSignalExecuted } from '../src/execution/markSignalExecuted.js';
import { alert, startTestService } from './support/startTestService.js';

describe('markSignalExecuted', () => {
  it('recognises its own row when an order is recorded again (a COMMIT whose answer was lost), and no other', async () => {
    const svc = await startTestService(); // no worker: the signal waits, queued
    try {
      const res = await svc.post(alert({ price: 140 }));
      const signal = { id: res.body.signalId as string, ticker: 'BTCUSDT', action: 'buy', retries: 0 };
      const sent = {
        signal,
        executor: 'forward' as const,
        effect: { outcome: 'forwarded' as const, response: { status: 200 } },
        attempt: 1,
        startedAt: new Date('2026-12-01T03:00:00.123Z'),
        completedAt: new Date('2026-12-01T03:00:00.456Z'),
        traceId: null,
      };
      assert.equal(await markSignalExecuted(svc.pool, sent), true);
      assert.equal(await markSignalExecuted(svc.pool, sent), true, 'the same execution, recorded already');
      assert.equal(await markSignalExecuted(svc.pool, { ...sent, attempt: 2 }), false, 'another attempt\'s');
      assert.equal(await markSignalExecuted(svc.pool, { ...sent, completedAt: undefined }), false, 'an execution without its own times (paper)');
      const { rows } = await svc.pool.query('SELECT count(*)::int AS n FROM executions WHERE signal_id = $1', [signal.id]);
      assert.equal(rows[0].n, 1);
    } finally {
      await svc.close();
    }
  });
});
