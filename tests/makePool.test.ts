import assert from 'node:assert/strict';
import { pino } from 'pino';
import { makePool } from '../src/db/makePool.js';
import { createTestDatabase } from './support/testDatabase.js';

describe('makePool: session settings', () => {
  it('commits synchronously by default (signals), asynchronously when asked (the monitoring sink)', async () => {
    const db = await createTestDatabase();
    const logger = pino({ level: 'silent' });
    const requestPool = makePool({ connectionString: db.url, max: 1, timeoutMs: 2000, logger });
    const sinkPool = makePool({ connectionString: db.url, max: 1, timeoutMs: 2000, logger, asynchronousCommit: true });
    try {
      assert.equal((await requestPool.query('SHOW synchronous_commit')).rows[0].synchronous_commit, 'on');
      assert.equal((await sinkPool.query('SHOW synchronous_commit')).rows[0].synchronous_commit, 'off');
      assert.equal((await requestPool.query('SHOW statement_timeout')).rows[0].statement_timeout, '2s');
    } finally {
      await requestPool.end();
      await sinkPool.end();
      await db.drop();
    }
  });
});
