import assert from 'node:assert/strict';
import pg from 'pg';
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

describe('makePool: timeouts', () => {
  it('a statement past timeoutMs is cancelled by the server, so it never commits after the caller was told it failed', async () => {
    const db = await createTestDatabase();
    const logger = pino({ level: 'silent' });
    const pool = makePool({ connectionString: db.url, max: 1, timeoutMs: 300, logger });
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    try {
      await locker.query('CREATE TABLE held (n int)');
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE held IN ACCESS EXCLUSIVE MODE');
      // The insert waits on the lock. The server's statement timeout must end it (SQLSTATE 57014, rolled back)
      // before our own bound gives up on an answer: that bound firing first left the insert waiting, to commit
      // as soon as the lock went, after the webhook had been answered 503.
      const err = await pool.query('INSERT INTO held VALUES (1)').then(() => undefined, (e: unknown) => e as { code?: string; message: string });
      await locker.query('ROLLBACK');
      assert.ok(err, 'the insert should have timed out');
      assert.equal(err.code, '57014', `cancelled by the server, not abandoned by the client (${err.message})`);
      // A lock that conflicts with the insert's is granted only after any insert still queued has finished.
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE held IN SHARE MODE');
      await locker.query('COMMIT');
      assert.equal((await locker.query('SELECT count(*)::int AS n FROM held')).rows[0].n, 0);
    } finally {
      await locker.end();
      await pool.end();
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
