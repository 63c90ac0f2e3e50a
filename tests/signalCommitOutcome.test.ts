import assert from 'node:assert/strict';
import pg from 'pg';
import { pino } from 'pino';
import { adminUrl } from './support/testDatabase.js';
import { alert, startTestService, type TestService } from './support/startTestService.js';
import { countJobs } from './support/jobQueue.js';
import { waitFor } from './support/waitFor.js';

/**
 * Postgres's statement_timeout ends with the statement; the commit after it runs with no timer. A commit that waits
 * (here for a synchronous standby that does not exist, as a slow fsync or a standby that went away would make it
 * wait) outlasts the service's own bound on the statement, DB_TIMEOUT_MS + 250 ms.
 */
async function withMissingStandby<T>(run: () => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query("ALTER SYSTEM SET synchronous_standby_names = 'tvw_no_such_standby'");
    await admin.query('SELECT pg_reload_conf()');
    return await run();
  } finally {
    await admin.query('ALTER SYSTEM RESET synchronous_standby_names');
    await admin.query('SELECT pg_reload_conf()');
    await admin.end();
  }
}

/** The webhook's record, once the sink has written it. */
async function recordOf(svc: TestService, webhookId: string): Promise<any> {
  return waitFor(async () => {
    const res = await svc.api(`/api/webhooks/${webhookId}`);
    return res.status === 200 ? res.body : undefined;
  }, { timeoutMs: 5_000, what: `the record of ${webhookId}` });
}

async function storedSignals(svc: TestService, webhookId: string): Promise<number> {
  return (await svc.pool.query('SELECT count(*)::int AS n FROM signals WHERE webhook_id = $1', [webhookId])).rows[0].n;
}

describe('signal writer: a commit that outlasts the client bound', function () {
  this.timeout(30_000);

  beforeEach(function () {
    // ALTER SYSTEM (superuser, the whole cluster) and stopping a backend (a process of this host): the suite's own
    // embedded server only.
    if (process.env.TEST_DATABASE_URL) this.skip();
  });

  it('answers 200 accepted when the commit went through after the client\'s bound (it used to be answered 503, then executed)', async () => {
    const svc = await startTestService({ DB_TIMEOUT_MS: '300' });
    try {
      const res = await withMissingStandby(() => svc.post(alert({ price: 31337 })));
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.status, 'accepted');
      assert.equal(await storedSignals(svc, res.body.webhookId), 1);
      assert.equal(await countJobs(svc.pool, res.body.signalId), 1, 'the accepted signal has its job');
      const detail = await recordOf(svc, res.body.webhookId);
      assert.equal(detail.webhook.status, 'success');
      assert.equal(detail.webhook.outcome, 'accepted');
    } finally {
      await svc.close();
    }
  });

  it('answers 503 WH_ERR_OUTCOME_UNKNOWN, naming the signal, when the session cannot be ended in time', async () => {
    // 1.5 s: time enough to find and stop the session before the client gives up (its commit waits for ever).
    const logged: Array<{ msg?: string; err?: { message?: string } }> = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
    const svc = await startTestService({ DB_TIMEOUT_MS: '1500' }, { logger });
    let stopped: number | undefined;
    try {
      const res = await withMissingStandby(async () => {
        const answer = svc.post(alert({ price: 27182 }));
        // The writer's session, waiting for the standby at its commit: stopped, it cannot end when asked to.
        const watcher = new pg.Client({ connectionString: adminUrl() });
        await watcher.connect();
        try {
          stopped = await waitFor(async () => {
            const { rows } = await watcher.query<{ pid: number }>(
              "SELECT pid FROM pg_stat_activity WHERE wait_event = 'SyncRep' AND datname = $1 AND query LIKE '%jsonb_to_recordset%'",
              [svc.db.name],
            );
            return rows[0]?.pid;
          }, { timeoutMs: 5_000, what: 'a commit waiting for the standby' });
        } finally {
          await watcher.end();
        }
        process.kill(stopped!, 'SIGSTOP');
        return answer;
      });
      assert.equal(res.status, 503);
      assert.equal(res.body.error.code, 'WH_ERR_OUTCOME_UNKNOWN');
      assert.match(res.body.error.message, /may have been/);
      assert.match(res.body.error.details.signalId, /^[0-9a-f-]{36}$/);
      // The log says why it was unknown (the client gave up on the statement) and why it stayed so.
      const entry = logged.find((l) => l.msg === 'whether the signal was stored is unknown; answered 503');
      assert.match(entry?.err?.message ?? '', /Query read timeout; checking what became of it failed: (Postgres session \d+ was still running|whether the signals were stored could not be checked)/);
      process.kill(stopped!, 'SIGCONT');
      stopped = undefined;
      // Whatever became of it, the resend is answered by it: a duplicate of the stored signal, or stored now.
      await waitFor(async () => (await svc.pool.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event = 'SyncRep'")).rows[0].n === 0, { timeoutMs: 5_000, what: 'the stopped session to end' });
      const resend = await svc.post(alert({ price: 27182 }));
      assert.equal(resend.status, 200);
      assert.equal(await storedSignals(svc, res.body.webhookId) + await storedSignals(svc, resend.body.webhookId), 1, 'stored once');
      if (resend.body.status === 'duplicate') assert.equal(resend.body.signalId, res.body.error.details.signalId);
      else assert.equal(resend.body.status, 'accepted');
      const detail = await recordOf(svc, res.body.webhookId);
      assert.equal(detail.webhook.status, 'failed');
      assert.equal(detail.webhook.errorCode, 'WH_ERR_OUTCOME_UNKNOWN');
    } finally {
      if (stopped !== undefined) process.kill(stopped, 'SIGCONT');
      await svc.close();
    }
  });
});

describe('signal writer: what an unknown outcome settles to', function () {
  this.timeout(30_000);
  beforeEach(function () {
    if (process.env.TEST_DATABASE_URL) this.skip(); // ALTER SYSTEM on the suite's own embedded server only
  });

  it('a batch committed after the client\'s bound answers each signal as the statement decided: new ones accepted, a resend duplicate', async () => {
    // No queue bound: the two webhooks below wait behind a batch stuck at its commit.
    const svc = await startTestService({ DB_TIMEOUT_MS: '300', SIGNAL_MAX_QUEUE_DELAY_MS: '0' });
    try {
      const first = await svc.post(alert({ price: 101 }));
      assert.equal(first.body.status, 'accepted');
      const [blocker, fresh, resend] = await withMissingStandby(async () => {
        const stuck = svc.post(alert({ price: 102 }));
        // Sent while the blocker's statement waits at its commit: they share the next statement.
        await waitFor(async () => (await svc.pool.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event = 'SyncRep'")).rows[0].n > 0, {
          timeoutMs: 5_000, what: 'the blocker waiting at its commit',
        });
        return Promise.all([stuck, svc.post(alert({ price: 103 })), svc.post(alert({ price: 101 }))]);
      });
      assert.deepEqual([blocker.status, blocker.body.status], [200, 'accepted']);
      assert.deepEqual([fresh.status, fresh.body.status], [200, 'accepted']);
      assert.deepEqual([resend.status, resend.body.status, resend.body.signalId], [200, 'duplicate', first.body.signalId]);
      assert.equal(await storedSignals(svc, fresh.body.webhookId), 1);
      assert.equal(await storedSignals(svc, resend.body.webhookId), 0);
      assert.equal(await countJobs(svc.pool), 3, 'a job for each signal stored, none for the duplicate');
    } finally {
      await svc.close();
    }
  });

  it('a statement whose session ended under it while it waited on a lock is answered 503 WH_ERR_UNAVAILABLE, and never stored', async () => {
    const svc = await startTestService({ DB_TIMEOUT_MS: '5000' });
    const locker = new pg.Client({ connectionString: svc.db.url });
    const watcher = new pg.Client({ connectionString: svc.db.url });
    await locker.connect();
    await watcher.connect();
    try {
      await locker.query('BEGIN');
      // SHARE: an insert waits, a read does not (the outcome check reads signals).
      await locker.query('LOCK TABLE signals IN SHARE MODE');
      const answer = svc.post(alert({ price: 4711 }));
      const pid = await waitFor(async () => {
        // Not on the locker: inside its transaction pg_stat_activity is a snapshot taken at its first read.
        const { rows } = await watcher.query<{ pid: number }>(
          "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = $1 AND query LIKE '%jsonb_to_recordset%'",
          [svc.db.name],
        );
        return rows[0]?.pid;
      }, { timeoutMs: 5_000, what: 'the insert waiting on the lock' });
      // The connection ends under the statement (FATAL 57P01): proof of nothing by itself, so the service checks.
      await watcher.query('SELECT pg_terminate_backend($1)', [pid]);
      const res = await answer;
      assert.equal(res.status, 503);
      assert.equal(res.body.error.code, 'WH_ERR_UNAVAILABLE');
      await locker.query('COMMIT');
      assert.equal(await storedSignals(svc, res.body.webhookId), 0);
    } finally {
      await locker.end();
      await watcher.end();
      await svc.close();
    }
  });
});
