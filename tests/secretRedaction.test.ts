import assert from 'node:assert/strict';
import { alert, startTestService, TEST_SECRET, type TestService } from './support/startTestService.js';
import { waitFor } from './support/waitFor.js';

/** Distinct values, so that a leak names the field it came from. */
const S = {
  token: 'leak-token-0001',
  password: 'leak-password-0002',
  apikey: 'leak-apikey-0003',
  apiKeySnake: 'leak-api-key-0004',
  spacedToken: 'leak-spaced-token-0005',
  upperKey: 'leak-upper-key-0006',
  nestedSecret: 'leak-nested-secret-0007',
  nestedInArray: 'leak-nested-array-0008',
  privateKey: 'leak-private-key-0009',
  rawApiKey: 'leak-raw-api-key-0010',
  rawPassword: 'leak-raw-password-0011',
  header: 'leak-header-0012',
  headerBearer: 'leak-header-bearer-0013',
};

describe('secret redaction: secret-looking keys at any depth and unknown headers never reach storage', function () {
  this.timeout(30_000);
  let svc: TestService;
  before(async () => {
    svc = await startTestService();
  });
  after(async () => svc.close());

  async function recordOf(webhookId: string) {
    return waitFor(async () => {
      const r = await svc.api(`/api/webhooks/${webhookId}`);
      return r.status === 200 ? r.body.webhook : undefined;
    }, { what: `record of ${webhookId}` });
  }

  it('strips token, password, apikey, api_key, " Token ", API-KEY and secrets nested under strategy or in arrays from the record and signals.extra', async () => {
    const res = await svc.post(
      alert({
        token: S.token,
        Password: S.password,
        apikey: S.apikey,
        api_key: S.apiKeySnake,
        ' Token ': S.spacedToken,
        'API-KEY': S.upperKey,
        comment: 'breakout',
        strategy: {
          order_action: 'buy',
          order_contracts: '2',
          secret: S.nestedSecret,
          legs: [{ venue: 'binance', credentials: { private_key: S.privateKey } }, { apiKey: S.nestedInArray }],
        },
      }),
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, 'accepted');

    const signal = (await svc.api(`/api/signals/${res.body.signalId}`)).body.signal;
    assert.equal(signal.extra.comment, 'breakout', 'fields that are not secrets stay');
    assert.equal(signal.extra.strategy.order_action, 'buy');
    assert.equal(signal.extra.strategy.legs[0].venue, 'binance');
    const record = await recordOf(res.body.webhookId);
    assert.equal(record.payload.comment, 'breakout');

    const stored = {
      signal: JSON.stringify(signal),
      record: JSON.stringify(record),
      signals: JSON.stringify((await svc.pool.query('SELECT * FROM signals')).rows),
      records: JSON.stringify((await svc.pool.query('SELECT * FROM webhook_requests')).rows),
    };
    for (const [name, value] of Object.entries(S)) {
      for (const [where, text] of Object.entries(stored)) assert.equal(text.includes(value), false, `${name} found in ${where}`);
    }
    assert.equal(stored.records.includes(TEST_SECRET), false);
  });

  it('redacts api_key and password values in a body that could not be parsed', async () => {
    const res = await svc.post(`{"api_key": "${S.rawApiKey}", "Password" : "${S.rawPassword}", broken`);
    assert.equal(res.status, 400);
    const record = await recordOf(res.body.webhookId);
    assert.match(record.payload.raw, /"api_key": \[redacted\]/);
    assert.equal(JSON.stringify(record).includes(S.rawApiKey), false);
    assert.equal(JSON.stringify(record).includes(S.rawPassword), false);
  });

  it('keeps only headers known to be harmless; any other header value is masked', async () => {
    const res = await svc.post(alert({ price: 7 }), {
      headers: { 'user-agent': 'Go-http-client/1.1', 'x-custom-auth': S.header, 'x-my-proxy-credential': `Bearer ${S.headerBearer}` },
    });
    assert.equal(res.status, 200);
    const record = await recordOf(res.body.webhookId);
    assert.equal(record.headers['user-agent'], 'Go-http-client/1.1');
    assert.equal(record.headers['content-type'], 'application/json');
    assert.equal(record.headers['x-custom-auth'], '[redacted]');
    assert.equal(record.headers['x-my-proxy-credential'], '[redacted]');
    const records = JSON.stringify((await svc.pool.query('SELECT * FROM webhook_requests')).rows);
    assert.equal(records.includes(S.header), false);
    assert.equal(records.includes(S.headerBearer), false);
  });
  it('scrubs the service\'s own secret values wherever they appear: a body that is only the secret, or a secret under an innocent key', async () => {
    const bare = await svc.post(TEST_SECRET, { contentType: 'text/plain' });
    assert.equal(bare.status, 400);
    const innocent = await svc.post(alert({ note: `copied ${TEST_SECRET} here`, price: 4242 }));
    assert.equal(innocent.status, 200);
    const text = JSON.stringify([await recordOf(bare.body.webhookId), await recordOf(innocent.body.webhookId)]);
    assert.ok(!text.includes(TEST_SECRET), `a record holds the secret: ${text.slice(0, 400)}`);
    assert.match(text, /copied \[redacted\] here/);
    const { rows } = await svc.pool.query('SELECT extra::text AS extra FROM signals WHERE id = $1', [innocent.body.signalId]);
    assert.ok(!rows[0].extra.includes(TEST_SECRET), 'signals.extra holds no secret');
  });
});
