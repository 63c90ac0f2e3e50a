import assert from 'node:assert/strict';
import net from 'node:net';
import pg from 'pg';
import { pino } from 'pino';
import { verifiedBackendPid, verifyBackendPid } from '../src/db/backendPid.js';
import { makePool } from '../src/db/makePool.js';
import { OutcomeUnknownError, provesRollback, queryKnowingOutcome } from '../src/db/queryKnowingOutcome.js';
import { waitForBackendExit } from '../src/db/waitForBackendExit.js';
import { detectPositionGaps } from '../src/monitoring/detectPositionGaps.js';
import { insertSignals } from '../src/pipeline/insertSignals.js';
import { settleUnknownBatch } from '../src/pipeline/settleUnknownBatch.js';
import { newSignal } from './support/newSignal.js';
import { adminUrl, createTestDatabase } from './support/testDatabase.js';
import { withTestPool } from './support/withTestPool.js';

const logger = pino({ level: 'silent' });

/**
 * The parts under the signal writer's handling of a statement whose outcome is unknown (see
 * tests/signalCommitOutcome.test.ts for the service's answers): what proves a rollback, how the session that ran it
 * is identified and ended, and what a pool does with a session that failed.
 */
describe('settleUnknownBatch: a session it cannot identify (a pooler in between)', () => {
  it('counts signals found as stored, and refuses to call signals not found unstored', async () => {
    await withTestPool({ max: 2, timeoutMs: 2000 }, async (pool) => {
      const stored = newSignal();
      await insertSignals(pool, [stored]);
      const missing = newSignal();
      const unknown = new OutcomeUnknownError('test', null);
      assert.deepEqual(await settleUnknownBatch(pool, unknown, [stored.id, missing.id], 1_000), new Set([stored.id]));
      await assert.rejects(settleUnknownBatch(pool, unknown, [missing.id], 1_000), /cannot be identified/);
    });
  });

  it('verifyBackendPid trusts a connection\'s pid only when it is its session\'s own; the pools\' connections are verified', async () => {
    const db = await createTestDatabase();
    const direct = new pg.Client({ connectionString: db.url });
    const pooled = new pg.Client({ connectionString: db.url });
    try {
      await direct.connect();
      await pooled.connect();
      // A pooler answers the handshake with a pid of its own.
      (pooled as unknown as { processID: number }).processID = 1;
      await verifyBackendPid(direct);
      await verifyBackendPid(pooled);
      const { rows } = await direct.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      assert.equal(verifiedBackendPid(direct), rows[0]!.pid);
      assert.equal(verifiedBackendPid(pooled), null);
      const pool = makePool({ connectionString: db.url, max: 1, timeoutMs: 2000, logger });
      try {
        const client = await pool.connect();
        const own = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
        assert.equal(verifiedBackendPid(client), own);
        client.release();
      } finally {
        await pool.end();
      }
    } finally {
      await direct.end();
      await pooled.end();
      await db.drop();
    }
  });
});

describe('makePool: a connection that fails while its pid is checked', () => {
  it('is not lent, and its error reaches the borrower instead of crashing the process', async () => {
    const db = await createTestDatabase();
    const target = new URL(db.url);
    // A proxy that passes the handshake and cuts the connection at the pid check, as a reset or a pool timeout would.
    const proxy = net.createServer((downstream) => {
      const upstream = net.connect(Number(target.port), target.hostname);
      upstream.on('error', () => downstream.destroy());
      downstream.on('error', () => upstream.destroy());
      upstream.pipe(downstream);
      downstream.on('data', (chunk: Buffer) => {
        if (chunk.includes('pg_backend_pid')) {
          upstream.destroy();
          downstream.destroy();
        } else upstream.write(chunk);
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const url = Object.assign(new URL(db.url), { hostname: '127.0.0.1', port: String((proxy.address() as net.AddressInfo).port) }).toString();
    const pool = makePool({ connectionString: url, max: 1, timeoutMs: 2000, logger });
    try {
      await assert.rejects(pool.query('SELECT 1'), /terminated|closed|ECONNRESET|EPIPE/i);
      assert.equal(pool.totalCount, 0, 'the failed connection was not kept');
    } finally {
      await pool.end();
      proxy.close();
      await db.drop();
    }
  });
});

describe('queryKnowingOutcome', () => {
  it('an error from Postgres about the statement proves it rolled back; no answer, or the session ended, does not', async () => {
    await withTestPool({ max: 2, timeoutMs: 2000 }, async (pool) => {
      const refused = await queryKnowingOutcome(pool, { text: 'SELECT 1/0' }).catch((err: unknown) => err);
      assert.ok(refused instanceof pg.DatabaseError && provesRollback(refused), 'division by zero is rolled back');
      assert.ok(!(refused instanceof OutcomeUnknownError));
      const ended = await queryKnowingOutcome(pool, { text: 'SELECT pg_terminate_backend(pg_backend_pid())' }).catch((err: unknown) => err);
      assert.ok(ended instanceof OutcomeUnknownError, `a session ended under the statement: ${String(ended)}`);
      assert.equal(typeof ended.backendPid, 'number');
      assert.equal(provesRollback(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })), false);
      assert.equal(provesRollback(new Error('Query read timeout')), false);
      const withSeverity = (severity: string, code: string) => Object.assign(new pg.DatabaseError('x', 0, 'error'), { severity, code });
      assert.equal(provesRollback(withSeverity('ERROR', '23505')), true);
      // A failed WAL flush at commit is a PANIC, and the commit may survive it in recovery.
      assert.equal(provesRollback(withSeverity('PANIC', '58030')), false);
      assert.equal(provesRollback(withSeverity('FATAL', '57P01')), false);
      assert.equal(provesRollback(withSeverity('ERROR', '08006')), false);
      assert.equal((await queryKnowingOutcome<{ n: number }>(pool, { text: 'SELECT 1 AS n' })).rows[0]!.n, 1);
    });
  });
});

describe('waitForBackendExit', () => {
  it('a role without privileges ends its own session and waits until it is gone', async () => {
    const db = await createTestDatabase();
    const role = `tvw_plain_${process.pid}`;
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD 'plain-password-0123'`);
    const url = Object.assign(new URL(db.url), { username: role, password: 'plain-password-0123' }).toString();
    const pool = makePool({ connectionString: url, max: 2, timeoutMs: 2000, logger });
    const victim = new pg.Client({ connectionString: url });
    victim.on('error', () => undefined);
    try {
      await victim.connect();
      const pid = (await victim.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const sleeping = victim.query('SELECT pg_sleep(30)').catch((err: unknown) => err);
      await waitForBackendExit(pool, pid, performance.now() + 5_000);
      assert.equal((await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1', [pid])).rows[0].n, 0);
      assert.ok((await sleeping) instanceof Error, 'the ended session\'s statement failed');
      // A session already gone is only looked for.
      await waitForBackendExit(pool, pid, performance.now() + 1_000);
    } finally {
      await victim.end().catch(() => undefined);
      await pool.end();
      await db.drop();
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.end();
    }
  });
});

describe('detectPositionGaps: a session that stopped answering', () => {
  it('is closed, not handed back: the pool\'s next query (a signal batch\'s) runs on a fresh session at once', async function () {
    if (process.env.TEST_DATABASE_URL) this.skip(); // the backend must be a process on this host, to be stopped
    await withTestPool({ max: 1, timeoutMs: 300 }, async (pool) => {
      let stopped: number | undefined;
      try {
        stopped = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
        process.kill(stopped, 'SIGSTOP');
        await assert.rejects(detectPositionGaps(pool, { lookbackMs: 60_000 }), /timeout/i);
        // Handed the stopped session, this query would time out as the detection did.
        const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        assert.notEqual(rows[0]!.pid, stopped, 'a fresh session');
      } finally {
        if (stopped !== undefined) process.kill(stopped, 'SIGCONT');
      }
    });
  });
});
