import assert from 'node:assert/strict';
import { pino } from 'pino';
import { makePool } from '../src/db/makePool.js';
import { createTestDatabase } from './support/testDatabase.js';
import { waitFor } from './support/waitFor.js';

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

describe('makePool: lost connections', () => {
  it('logs a checked-out client whose connection the server ends, and the process goes on', async () => {
    const db = await createTestDatabase();
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const pool = makePool({ connectionString: db.url, max: 2, timeoutMs: 2000, logger, applicationName: 'tvw-lost-client' });
    const client = await pool.connect();
    try {
      // A checked-out client with no query running (a worker between two statements) when Postgres ends its
      // session: pg emits 'error' on the client, which would be an uncaught exception without a listener.
      const { pid } = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0];
      await pool.query('SELECT pg_terminate_backend($1)', [pid]);
      const logged = await waitFor(async () => lines.find((l) => l.msg === 'database client in use lost its connection; it will be replaced'), {
        what: 'the lost client to be logged',
      });
      assert.equal(logged.pool, 'tvw-lost-client');
      client.release(); // as code that does not know: the pool sees the connection is gone
      assert.equal((await pool.query('SELECT 1 AS one')).rows[0].one, 1);
    } finally {
      await pool.end();
      await db.drop();
    }
  });
});
