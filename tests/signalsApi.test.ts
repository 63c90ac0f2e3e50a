import assert from 'node:assert/strict';
import pg from 'pg';
import { alert, startTestService, type TestService } from './support/startTestService.js';

describe('signals API', () => {
  let svc: TestService;
  const ids: string[] = [];
  before(async () => {
    svc = await startTestService({ ALLOWED_SYMBOLS: 'AAA,BBB' });
    for (let i = 0; i < 5; i++) ids.push((await svc.post(alert({ ticker: i % 2 ? 'BBB' : 'AAA', price: i + 1 }))).body.signalId);
    ids.push((await svc.post(alert({ ticker: 'CCC', price: 9 }))).body.signalId); // declined
  });
  after(async () => svc.close());

  it('refuses requests without the admin token', async () => {
    const res = await svc.api('/api/signals', { token: null });
    assert.equal(res.status, 401);
    assert.equal(res.body.error.code, 'WH_ERR_UNAUTHORIZED');
    assert.equal((await svc.api('/api/signals', { token: 'wrong-token-0123456789' })).status, 401);
  });

  it('lists newest first and pages with the cursor', async () => {
    const page1 = await svc.api('/api/signals?limit=4');
    assert.equal(page1.status, 200);
    assert.deepEqual(page1.body.signals.map((s: any) => s.id), [...ids].reverse().slice(0, 4));
    const page2 = await svc.api(`/api/signals?limit=4&cursor=${page1.body.nextCursor}`);
    assert.deepEqual(page2.body.signals.map((s: any) => s.id), [...ids].reverse().slice(4));
    assert.equal(page2.body.nextCursor, null);
  });

  it('filters by status, ticker and since', async () => {
    const bbb = await svc.api('/api/signals?ticker=bbb');
    assert.deepEqual(bbb.body.signals.map((s: any) => s.price).sort(), [2, 4]);
    const declined = await svc.api('/api/signals?status=declined');
    assert.deepEqual(declined.body.signals.map((s: any) => s.ticker), ['CCC']);
    const future = await svc.api(`/api/signals?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    assert.deepEqual(future.body.signals, []);
  });

  it('answers 400 naming a bad filter, 404 for an unknown id', async () => {
    const bad = await svc.api('/api/signals?status=lost&limit=1000');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'WH_ERR_BAD_REQUEST');
    assert.match(bad.body.error.message, /status/);
    assert.match(bad.body.error.message, /limit/);
    const missing = await svc.api('/api/signals/01890a5d-ac96-774b-bcce-b302099a8057');
    assert.equal(missing.status, 404);
  });

  it('a filter with a NUL character is a 400 naming it, never a 500 from Postgres', async () => {
    for (const path of ['/api/signals?ticker=%00', '/api/webhooks?ticker=A%00', '/api/executions?ticker=%00', '/api/monitoring/gaps?strategy=%00', '/api/monitoring/gaps?ticker=B%00B']) {
      const res = await svc.api(path);
      assert.equal(res.status, 400, `${path}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, 'WH_ERR_BAD_REQUEST', path);
      assert.match(res.body.error.message, /(ticker|strategy): must not contain a NUL character/, path);
    }
  });

  it('a read the database does not answer within DB_TIMEOUT_MS is a 503 WH_ERR_UNAVAILABLE saying so, not a 500', async () => {
    const own = await startTestService({ DB_TIMEOUT_MS: '300' }, { db: svc.db });
    const locker = new pg.Client({ connectionString: svc.db.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE signals IN ACCESS EXCLUSIVE MODE');
      const res = await own.api('/api/signals');
      assert.equal(res.status, 503, JSON.stringify(res.body));
      assert.equal(res.body.error.code, 'WH_ERR_UNAVAILABLE');
      assert.match(res.body.error.message, /did not answer in time \(DB_TIMEOUT_MS\)/);
      assert.equal(res.body.error.errorId, undefined, 'not an internal error to quote');
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
      await own.close();
    }
  });

  it('shows one signal with its executions list', async () => {
    const res = await svc.api(`/api/signals/${ids[0]}`);
    assert.equal(res.body.signal.id, ids[0]);
    assert.equal(typeof res.body.signal.price, 'number');
    assert.ok(Array.isArray(res.body.executions));
  });

  it('serves /healthz and /readyz without auth', async () => {
    assert.equal((await svc.api('/healthz', { token: null })).body.status, 'ok');
    const ready = await svc.api('/readyz', { token: null });
    assert.equal(ready.status, 200);
    assert.equal(ready.body.checks.migrations.ok, true);
  });
});
