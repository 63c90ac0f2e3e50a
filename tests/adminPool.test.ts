import assert from 'node:assert/strict';
import pg from 'pg';
import { alert, startTestService } from './support/startTestService.js';

describe('the admin API on a pool of its own (DB_ADMIN_POOL_MAX)', function () {
  this.timeout(30_000);

  it('a webhook is stored and answered while every admin connection waits on a slow read', async () => {
    const svc = await startTestService({ DB_POOL_MAX: '2', DB_ADMIN_POOL_MAX: '1', DB_TIMEOUT_MS: '3000' });
    // A read that Postgres holds up (here: a lock on executions, which webhooks never touch), three times over.
    const locker = new pg.Client({ connectionString: svc.db.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE executions IN ACCESS EXCLUSIVE MODE');
      const answered: string[] = [];
      const reads = [1, 2, 3].map(() => svc.api('/api/executions').then((r) => void answered.push(`read ${r.status}`)));
      await new Promise((resolve) => setTimeout(resolve, 300)); // the reads reach Postgres and wait there
      const webhook = await svc.post(alert({ price: 5 }));
      answered.push(`webhook ${webhook.status} ${webhook.body.status}`);
      // Before, the reads held the request pool's connections, and the webhook waited for one until they timed out.
      assert.deepEqual(answered, ['webhook 200 accepted'], 'answered while the admin reads still wait');
      await locker.query('ROLLBACK');
      await Promise.all(reads);
      assert.deepEqual(answered.slice(1), ['read 200', 'read 200', 'read 200']);
    } finally {
      await locker.end();
      await svc.close();
    }
  });
});
