import assert from 'node:assert/strict';
import { chmod, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { loadGeneratedSecrets } from '../src/config/loadGeneratedSecrets.js';
import { parseConfig } from '../src/config/parseConfig.js';
import { alert, startTestService, type TestService } from './support/startTestService.js';
import { makeTempDir } from './support/makeTempDir.js';

// The Standard Webhooks specification's published test vector.
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  payload: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

const OLD = 'old-secret-0123456';
const NEW = 'new-secret-0123456';

describe('authenticate: shared secrets and Standard Webhooks', () => {
  let svc: TestService;
  before(async () => {
    svc = await startTestService({
      WEBHOOK_SECRETS: `${OLD}, ${NEW}`,
      WEBHOOK_SIGNING_SECRET: VECTOR.secret,
    });
  });
  after(async () => svc.close());

  it('accepts every secret of WEBHOOK_SECRETS during a rotation', async () => {
    assert.equal((await svc.post(alert({ secret: OLD, price: 1 }))).status, 200);
    assert.equal((await svc.post(alert({ secret: NEW, price: 2 }))).status, 200);
    assert.equal((await svc.post(alert({ secret: NEW.slice(0, -1), price: 3 }))).status, 401);
    assert.equal((await svc.post(alert({ secret: `${NEW}7`, price: 4 }))).status, 401);
  });

  it('signs the spec test vector exactly as published (the library we verify with)', () => {
    const wh = new Webhook(VECTOR.secret);
    assert.equal(wh.sign(VECTOR.id, new Date(VECTOR.timestamp * 1000), VECTOR.payload), VECTOR.signature);
  });

  it('refuses the test vector itself: its timestamp is outside the 5-minute tolerance', async () => {
    const res = await svc.post(VECTOR.payload, {
      headers: { 'webhook-id': VECTOR.id, 'webhook-timestamp': String(VECTOR.timestamp), 'webhook-signature': VECTOR.signature },
    });
    assert.equal(res.status, 401);
    assert.equal(res.body.error.code, 'WH_ERR_AUTH_INVALID');
    assert.match(res.body.error.message, /too old/);
  });

  let messages = 0;
  function signed(body: string, timestamp = Math.floor(Date.now() / 1000)) {
    const wh = new Webhook(VECTOR.secret);
    // A new message id per message: the id is the dedupe key of a signed message.
    const id = `msg_test_${++messages}`;
    return {
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': wh.sign(id, new Date(timestamp * 1000), body),
    };
  }

  it('accepts a body signed with WEBHOOK_SIGNING_SECRET and no body secret', async () => {
    const body = JSON.stringify({ ticker: 'SIGNED', action: 'buy', price: 10 });
    const res = await svc.post(body, { headers: signed(body) });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });

  it('accepts a signed text/plain KEY=VALUE body', async () => {
    const body = 'ticker=SIGNED2\naction=sell';
    const res = await svc.post(body, { contentType: 'text/plain', headers: signed(body) });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });

  it('refuses a tampered body, and a signature older than 5 minutes (moved timestamp)', async () => {
    const body = JSON.stringify({ ticker: 'SIGNED', action: 'buy', price: 11 });
    const headers = signed(body);
    const tampered = await svc.post(body.replace('11', '12'), { headers });
    assert.equal(tampered.status, 401);
    assert.equal(tampered.body.error.code, 'WH_ERR_AUTH_INVALID');
    const old = Math.floor(Date.now() / 1000) - 301;
    const stale = await svc.post(body, { headers: signed(body, old) });
    assert.equal(stale.status, 401);
    assert.match(stale.body.error.message, /too old/);
  });
});

describe('authenticate: exactly one secret location per scheme', () => {
  let svc: TestService;
  before(async () => {
    svc = await startTestService({ WEBHOOK_SECRETS: `${OLD}, ${NEW}` });
  });
  after(async () => svc.close());

  it('refuses a body whose secret fields hold different values, even when one of them is right (one guess per request)', async () => {
    // Before: every case and spelling was tried, so a body could carry many guesses and pass if any matched.
    const guesses: Record<string, string> = {};
    for (const name of ['SECRET', 'Secret', 'sEcReT', 'PASSPHRASE', 'Passphrase', 'KEY', 'Key', ' secret ', 'Pass-Phrase']) guesses[name] = `guess-${name.trim()}-000000`;
    const res = await svc.post(alert({ secret: NEW, ...guesses, price: 21 }));
    assert.equal(res.status, 401, JSON.stringify(res.body));
    assert.equal(res.body.error.code, 'WH_ERR_AUTH_INVALID');
    assert.match(res.body.error.message, /different secrets/);
    assert.equal(res.body.error.message.includes(NEW), false, 'the message never repeats a secret');
    assert.equal(res.body.error.message.includes('guess-'), false);
  });

  it('accepts several secret fields holding the same secret', async () => {
    const res = await svc.post(alert({ secret: NEW, Passphrase: NEW, ' key ': NEW, price: 22 }));
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });

  it('refuses a body secret and a ?token= that disagree, whichever is right', async () => {
    const a = await svc.post(alert({ secret: NEW, price: 23 }), { query: 'token=wrong-token-0000000' });
    assert.equal(a.status, 401);
    assert.match(a.body.error.message, /different secrets/);
    const b = await svc.post(alert({ secret: 'wrong-secret-0000000', price: 24 }), { query: `token=${NEW}` });
    assert.equal(b.status, 401);
    const agree = await svc.post(alert({ secret: NEW, price: 25 }), { query: `token=${NEW}` });
    assert.equal(agree.status, 200, JSON.stringify(agree.body));
  });

  it('says in every 401 that the secret is kept in WEBHOOK_SECRETS, without revealing it', async () => {
    const missing = await svc.post(alert({ secret: undefined, price: 26 }));
    assert.equal(missing.body.error.code, 'WH_ERR_AUTH_MISSING');
    assert.match(missing.body.error.message, /WEBHOOK_SECRETS/);
    const wrong = await svc.post(alert({ secret: 'wrong-secret-0000000', price: 27 }));
    assert.equal(wrong.body.error.code, 'WH_ERR_AUTH_INVALID');
    assert.match(wrong.body.error.message, /WEBHOOK_SECRETS/);
    for (const m of [missing.body.error.message, wrong.body.error.message]) {
      assert.equal(m.includes(OLD) || m.includes(NEW), false);
    }
  });
});

describe('authenticate: generated secret and operator-set secret length', () => {
  it('says in a 401 that the generated secret is kept in DATA_DIR/secrets.json, without revealing it', async () => {
    const svc = await startTestService({ WEBHOOK_SECRETS: '' });
    try {
      const generated = svc.secrets.webhookSecrets[0]!;
      assert.ok(generated.length >= 40, 'generated secrets stay long and random');
      const wrong = await svc.post(alert({ secret: 'wrong-secret-0000000' }));
      assert.equal(wrong.status, 401);
      assert.ok(wrong.body.error.message.includes(path.join(svc.config.service.dataDir, 'secrets.json')), wrong.body.error.message);
      assert.equal(wrong.body.error.message.includes(generated), false);
      assert.equal((await svc.post(alert({ secret: generated }))).status, 200);
    } finally {
      await svc.close();
    }
  });

  it('refuses to start with a WEBHOOK_SECRETS entry shorter than 16 characters, saying why and not printing it', () => {
    const short = 'fifteen-chars!!';
    assert.throws(
      () => parseConfig({ WEBHOOK_SECRETS: `${NEW},${short}` }),
      (err: Error) => /WEBHOOK_SECRETS.*at least 16 characters/.test(err.message) && !err.message.includes(short) && !err.message.includes(NEW),
    );
    assert.equal(parseConfig({ WEBHOOK_SECRETS: 'x'.repeat(16) }).secrets.webhookSecrets?.[0], 'x'.repeat(16));
  });

  it('never prints a secret variable it refuses (ADMIN_TOKEN too short)', () => {
    const token = 'short-admin-tok';
    assert.throws(
      () => parseConfig({ ADMIN_TOKEN: token }),
      (err: Error) => /ADMIN_TOKEN.*at least 16 characters/.test(err.message) && !err.message.includes(token),
    );
  });

  it('makes a secrets.json written by hand private (0644 let every local user read the secrets)', async () => {
    const dataDir = await makeTempDir('tvw-mode-');
    const file = path.join(dataDir, 'secrets.json');
    await writeFile(file, JSON.stringify({ webhookSecret: 'w'.repeat(43), adminToken: 'y'.repeat(43) }), { mode: 0o644 });
    await chmod(file, 0o644);
    const secrets = await loadGeneratedSecrets(dataDir, { webhookSecrets: undefined, adminToken: undefined });
    assert.deepEqual(secrets.webhookSecrets, ['w'.repeat(43)]);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
  });

  it('refuses to start with a webhook secret shorter than 16 characters in DATA_DIR/secrets.json', async () => {
    const dataDir = await makeTempDir('tvw-short-');
    await writeFile(path.join(dataDir, 'secrets.json'), JSON.stringify({ webhookSecret: 'too-short', adminToken: 'y'.repeat(43) }));
    await assert.rejects(loadGeneratedSecrets(dataDir, { webhookSecrets: undefined, adminToken: undefined }), (err: Error) =>
      /secrets\.json.*webhookSecret.*at least 16 characters/s.test(err.message) && !err.message.includes('too-short'),
    );
  });
});
