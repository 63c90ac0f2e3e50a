import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { DASHBOARDS_DIR, renderDashboards } from '../grafana/src/writeDashboards.js';
import { REQUESTS_UID } from '../grafana/src/requestsDashboard.js';
import { migrate } from '../src/db/migrate.js';
import { loadSignal } from '../src/execution/loadSignal.js';
import { markSignalFailed } from '../src/execution/markSignalFailed.js';
import { projectRoot } from '../src/db/projectRoot.js';
import { alert, startTestService, TEST_SECRET, type TestService } from './support/startTestService.js';
import { adminUrl, quietLogger } from './support/testDatabase.js';
import { waitFor } from './support/waitFor.js';
import { PRIVATE_JOBS_TABLE } from './support/jobQueue.js';

const readerScript = () => readFile(path.join(projectRoot(), 'postgres', 'initdb', '10-grafana-reader.sql'), 'utf8');

/** What the sender sent: the role must not read it unless the operator grants it. */
const SENDER_COLUMNS = ['payload', 'headers', 'user_agent'];

/** The columns of webhook_requests grafana_reader may read, as Postgres reports them. */
async function readableColumns(client: pg.Client, table = 'webhook_requests'): Promise<string[]> {
  const r = await client.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns
      WHERE table_schema = 'public' AND table_name = $1
        AND has_column_privilege('grafana_reader', 'public.' || $1, column_name, 'SELECT')
      ORDER BY column_name`,
    [table],
  );
  return r.rows.map((row) => row.column_name);
}

const requestsDashboard = () => JSON.parse(renderDashboards()[`${REQUESTS_UID}.json`]!);

/** Grafana's expansion of the macros and variables the SQL uses (Grafana quotes multi-value variables for SQL). */
function expand(sql: string, vars: { from: Date; to: Date; status: string[]; webhookId: string }): string {
  return sql
    .replace(/\$__timeFilter\(([\w.]+)\)/g, (_, col) => `${col} BETWEEN '${vars.from.toISOString()}' AND '${vars.to.toISOString()}'`)
    .replaceAll('$status', vars.status.map((s) => `'${s}'`).join(','))
    .replaceAll('$webhook_id', vars.webhookId);
}

describe('grafana dashboards: generated from code, and every SQL query runs as the read-only role', function () {
  this.timeout(60_000);

  it('the committed JSON is what `npm run dashboards` generates', async () => {
    for (const [name, json] of Object.entries(renderDashboards())) {
      const committed = await readFile(path.join(DASHBOARDS_DIR, name), 'utf8').catch(() => '');
      assert.ok(committed === json, `grafana/dashboards/${name} is stale: run \`npm run dashboards\` and commit the result`);
    }
  });

  it('every panel names a provisioned datasource and has at least one query', () => {
    for (const json of Object.values(renderDashboards())) {
      for (const panel of JSON.parse(json).panels) {
        if (panel.type === 'row') continue;
        assert.ok(['prometheus', 'postgres', 'jaeger'].includes(panel.datasource?.uid), `${panel.title}: datasource`);
        assert.ok(panel.targets?.length > 0, `${panel.title}: queries`);
      }
    }
  });

  describe('the Requests dashboard on a database with real webhooks', () => {
    let svc: TestService;
    let reader: pg.Client;
    const ids: Record<string, string> = {};
    let failedSignalId: string;
    const window = () => ({ from: new Date(Date.now() - 3_600_000), to: new Date(Date.now() + 60_000) });

    before(async () => {
      svc = await startTestService({ DB_TIMEOUT_MS: '300' });
      ids.accepted = (await svc.post(alert({ price: '101' }))).body.webhookId;
      const accepted2 = (await svc.post(alert({ ticker: 'BINANCE:ETHUSDT', price: '102' }))).body;
      ids.accepted2 = accepted2.webhookId;
      // Its trade fails after the 200, as the worker settles a signal the broker refused (no worker runs here).
      failedSignalId = accepted2.signalId;
      const stored = (await loadSignal(svc.pool, failedSignalId))!;
      await markSignalFailed(svc.pool, { signal: stored, executor: 'forward', error: 'forward target answered 400: unknown symbol', attempt: 1, startedAt: new Date(), traceId: stored.traceId });
      ids.rejected = (await svc.post(alert({ secret: `${TEST_SECRET}-wrong` }))).body.webhookId;
      const locker = new pg.Client({ connectionString: svc.db.url });
      await locker.connect();
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE signals IN ACCESS EXCLUSIVE MODE');
      ids.failed = (await svc.post(alert({ price: '103' }))).body.webhookId;
      await locker.query('ROLLBACK');
      await locker.end();
      for (const id of Object.values(ids)) {
        assert.ok(id, 'every answer names its webhookId');
        await waitFor(async () => (await svc.api(`/api/webhooks/${id}`)).status === 200, { what: `record ${id}` });
      }
      // The role script the compose stack's Postgres runs at first start, then every query as that role.
      reader = new pg.Client({ connectionString: svc.db.url });
      await reader.connect();
      await reader.query(await readerScript());
      await reader.query('SET ROLE grafana_reader');
    });
    after(async () => {
      await reader?.end();
      await svc?.close();
    });

    const run = async (sql: string, vars: Partial<{ status: string[]; webhookId: string }> = {}) =>
      (await reader.query(expand(sql, { ...window(), status: ['success', 'rejected', 'failed'], webhookId: '', ...vars }))).rows;
    const panelSql = (title: string) => {
      const panel = requestsDashboard().panels.find((p: any) => p.title.startsWith(title));
      assert.ok(panel, `panel ${title}`);
      return panel.targets[0].rawSql as string;
    };

    it('every SQL query in the dashboard (panels and variables) runs as grafana_reader', async () => {
      const d = requestsDashboard();
      const sqls = [...d.panels.flatMap((p: any) => p.targets.map((t: any) => t.rawSql)), ...d.templating.list.filter((v: any) => v.type === 'query').map((v: any) => v.query)];
      assert.equal(sqls.length, 7);
      for (const sql of sqls) await run(sql, { webhookId: ids.accepted });
    });

    it('Requests by status counts each status', async () => {
      const rows = await run(panelSql('Requests by status'));
      assert.deepEqual(rows.map((r) => [r.status, Number(r.requests)]), [['failed', 1], ['rejected', 1], ['success', 2]]);
    });

    it('Latest webhooks lists every webhook newest first with its trace id, and the Status filter works', async () => {
      const rows = await run(panelSql('Latest webhooks'));
      assert.deepEqual(rows.map((r) => r.webhook_id), [ids.failed, ids.rejected, ids.accepted2, ids.accepted]);
      const accepted = rows.find((r) => r.webhook_id === ids.accepted)!;
      assert.equal(accepted.status, 'success');
      assert.equal(accepted.ticker, 'BTCUSDT');
      assert.equal(accepted.action, 'buy');
      assert.ok(Number(accepted.duration_ms) > 0);
      assert.match(accepted.trace_id, /^[0-9a-f]{32}$/);
      assert.equal(rows.find((r) => r.webhook_id === ids.rejected)!.rejection_code, 'WH_ERR_AUTH_INVALID');
      assert.equal(accepted.execution, 'queued');
      const failedTrade = rows.find((r) => r.webhook_id === ids.accepted2)!;
      assert.deepEqual([failedTrade.status, failedTrade.outcome, failedTrade.execution], ['success', 'accepted', 'failed']);
      assert.match(failedTrade.execution_error, /answered 400/);
      const onlyRejected = await run(panelSql('Latest webhooks'), { status: ['rejected'] });
      assert.deepEqual(onlyRejected.map((r) => r.webhook_id), [ids.rejected]);
    });

    it('Latest failures shows failed and rejected webhooks with their error messages', async () => {
      const rows = await run(panelSql('Latest failures'));
      assert.deepEqual(rows.map((r) => [r.webhook_id, r.status, r.error_code]), [
        [ids.failed, 'failed', 'WH_ERR_UNAVAILABLE'],
        [ids.rejected, 'rejected', 'WH_ERR_AUTH_INVALID'],
      ]);
      for (const r of rows) assert.ok(r.error_message.length > 10, 'a message that says what went wrong');
    });

    it('Stages shows the selected webhook\'s stages in order with durations, and nothing when none is selected', async () => {
      const accepted = await run(panelSql('Stages of webhook'), { webhookId: ids.accepted });
      assert.deepEqual(accepted.map((r) => r.stage), ['received', 'enriching', 'deciding', 'executing', 'completed']);
      for (const r of accepted) assert.ok(Number(r.duration_ms) >= 0);
      const failed = await run(panelSql('Stages of webhook'), { webhookId: ids.failed });
      assert.deepEqual(failed.map((r) => [r.stage, r.status]).slice(-2), [['executing', 'failed'], ['failed', 'failed']]);
      assert.deepEqual(await run(panelSql('Stages of webhook')), []);
    });

    it('Execution shows the selected webhook\'s signal after the answer, beside its stages', async () => {
      const failed = await run(panelSql('Execution of webhook'), { webhookId: ids.accepted2 });
      assert.deepEqual(failed.map((r) => [r.execution, r.outcome, r.retry, r.executor]), [['failed', 'failed', 0, 'forward']]);
      assert.match(failed[0].reason, /answered 400: unknown symbol/);
      const queued = await run(panelSql('Execution of webhook'), { webhookId: ids.accepted });
      assert.deepEqual(queued.map((r) => [r.execution, r.outcome]), [['queued', null]]);
      assert.deepEqual(await run(panelSql('Execution of webhook'), { webhookId: ids.rejected }), []);
    });

    it('Failed signals lists trades that failed after their 200, with the reason', async () => {
      const rows = await run(panelSql('Failed signals'));
      assert.deepEqual(rows.map((r) => [r.signal_id, r.webhook_id, r.ticker]), [[failedSignalId, ids.accepted2, 'ETHUSDT']]);
      assert.match(rows[0].reason, /answered 400/);
    });

    it('the Webhook variable offers the recorded webhooks', async () => {
      const variable = requestsDashboard().templating.list.find((v: any) => v.name === 'webhook_id');
      const rows = await run(variable.query);
      assert.deepEqual(new Set(rows.map((r) => r.id)), new Set(Object.values(ids)));
    });

    it('grafana_reader reads records but not payloads, headers or user agents', async () => {
      for (const column of SENDER_COLUMNS) {
        await assert.rejects(reader.query(`SELECT ${column} FROM webhook_requests LIMIT 1`), /permission denied/, column);
      }
      await assert.rejects(reader.query('SELECT * FROM webhook_requests LIMIT 1'), /permission denied/);
      const rows = (await reader.query('SELECT id, status, error_code, ticker, trace_id FROM webhook_requests')).rows;
      assert.equal(rows.length, 4);
      // Nor the sender's other alert fields kept with a signal.
      await assert.rejects(reader.query('SELECT extra FROM signals LIMIT 1'), /permission denied/);
      await reader.query('SELECT id, ticker, action, status, last_error FROM signals');
    });

    it('grafana_reader cannot write, nor read the job queue', async () => {
      await assert.rejects(reader.query(`DELETE FROM webhook_requests`), /permission denied/);
      await assert.rejects(reader.query(`SELECT * FROM ${PRIVATE_JOBS_TABLE} LIMIT 1`), /permission denied/);
    });
  });
});

describe('grafana_reader in the compose order: the role first, then the service migrates the database', function () {
  this.timeout(60_000);
  const name = `tvw_reader_first_${process.pid}`;
  const url = () => Object.assign(new URL(adminUrl()), { pathname: `/${name}` }).toString();
  let client: pg.Client;

  before(async () => {
    // The compose stack's Postgres runs postgres/initdb once, on an empty database; the app migrates later.
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name}`);
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    client = new pg.Client({ connectionString: url() });
    await client.connect();
    await client.query(await readerScript());
    await migrate(url(), quietLogger);
  });
  after(async () => {
    await client?.end();
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });

  it('hides payloads, headers and user agents of tables created after the role, and shows the rest', async () => {
    const columns = await readableColumns(client);
    for (const column of SENDER_COLUMNS) assert.ok(!columns.includes(column), `${column} hidden`);
    for (const column of ['id', 'created_at', 'status', 'error_code', 'error_message', 'ticker', 'action', 'outcome', 'trace_id']) {
      assert.ok(columns.includes(column), `${column} readable`);
    }
    await client.query('SET ROLE grafana_reader');
    try {
      await assert.rejects(client.query('SELECT payload FROM webhook_requests'), /permission denied/);
      await client.query('SELECT id, status FROM webhook_requests');
      await client.query('SELECT stage, duration_ms FROM processing_stages');
      await assert.rejects(client.query('SELECT extra FROM signals'), /permission denied/);
      await client.query('SELECT id, ticker, status FROM signals');
    } finally {
      await client.query('RESET ROLE');
    }
  });

  it('gives the role the same columns as running the script on a migrated database', async () => {
    // Here the script runs again after migration: the path of tests above and of an existing database.
    const before = await readableColumns(client);
    const signalsBefore = await readableColumns(client, 'signals');
    assert.ok(!signalsBefore.includes('extra') && signalsBefore.includes('ticker'), signalsBefore.join(','));
    await client.query(await readerScript());
    assert.deepEqual(await readableColumns(client), before);
    assert.deepEqual(await readableColumns(client, 'signals'), signalsBefore);
  });
});
