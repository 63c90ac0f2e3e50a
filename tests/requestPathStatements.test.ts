import assert from 'node:assert/strict';
import type pg from 'pg';
import { alert, startTestService, type TestService } from './support/startTestService.js';
import { countJobs } from './support/jobQueue.js';

/** Records the text of every statement the service's request pool sends, from the moment a client is lent. */
function recordStatements(svc: TestService): string[] {
  const log: string[] = [];
  const seen = new WeakSet<pg.PoolClient>();
  svc.pool.on('acquire', (client) => {
    if (seen.has(client)) return;
    seen.add(client);
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: unknown }).query = (...args: unknown[]) => {
      const first = args[0] as string | { text?: string };
      log.push(typeof first === 'string' ? first : first.text ?? '');
      return query(...args);
    };
  });
  return log;
}

describe('request path: the database statements of one webhook (counted, not timed)', function () {
  this.timeout(60_000);

  for (const monitoring of ['true', 'false']) {
    describe(`MONITORING_ENABLED=${monitoring}`, () => {
      let svc: TestService;
      let log: string[];
      before(async () => {
        svc = await startTestService({ MONITORING_ENABLED: monitoring });
        log = recordStatements(svc);
      });
      after(async () => svc.close());
      const statementsOf = async (body: unknown) => {
        log.length = 0;
        const res = await svc.post(body);
        return { res, statements: [...log] };
      };

      it('an accepted webhook: ONE statement (its own transaction) that inserts the signal and enqueues its job', async () => {
        const { res, statements } = await statementsOf(alert({ price: 11 }));
        assert.equal(res.body.status, 'accepted');
        assert.equal(statements.length, 1, statements.join('\n---\n'));
        assert.match(statements[0]!, /INSERT INTO signals/);
        assert.match(statements[0]!, /graphile_worker\.add_jobs/);
        assert.doesNotMatch(statements[0]!, /^\s*BEGIN/i);
        assert.equal(await countJobs(svc.pool, res.body.signalId), 1);
      });

      it('a duplicate: two statements (the insert that finds the conflict, then the lookup of the original)', async () => {
        await svc.post(alert({ price: 12 }));
        const { res, statements } = await statementsOf(alert({ price: 12 }));
        assert.equal(res.body.status, 'duplicate');
        assert.equal(statements.length, 2);
      });

      it('a rejected webhook: no statement at all', async () => {
        for (const body of [alert({ secret: 'wrong-secret' }), alert({ action: 'hodl' }), '{oops', alert({ ticker: '{{ticker}}' })]) {
          const { res, statements } = await statementsOf(body);
          assert.ok(res.status >= 400 && res.status < 500, `${res.status}`);
          assert.deepEqual(statements, []);
        }
      });

      it('40 accepted webhooks at once: at most one statement each, usually far fewer (batched), all stored with their jobs', async () => {
        log.length = 0;
        const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => svc.post(alert({ price: 1000 + i }))));
        assert.ok(answers.every((a) => a.body.status === 'accepted'));
        assert.ok(log.length >= 1 && log.length <= 40, `${log.length} statements`);
        const ids = answers.map((a) => a.body.signalId);
        assert.equal(await countJobs(svc.pool, ids), 40);
      });
    });
  }
});
