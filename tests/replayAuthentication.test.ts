import assert from 'node:assert/strict';
import { uuidv7 } from 'uuidv7';
import { alert, startTestService, type TestService } from './support/startTestService.js';
import { waitFor } from './support/waitFor.js';

describe('webhook replay: only records that passed authentication', () => {
  let svc: TestService;
  before(async () => {
    svc = await startTestService();
  });
  after(async () => svc.close());

  async function recorded(id: string) {
    return waitFor(async () => {
      const r = await svc.api(`/api/webhooks/${id}`);
      return r.status === 200 ? r.body : undefined;
    }, { what: `record ${id}` });
  }

  async function signalsFor(ticker: string): Promise<number> {
    const { rows } = await svc.pool.query('SELECT count(*)::int AS n FROM signals WHERE ticker = $1', [ticker]);
    return rows[0].n;
  }

  async function expectRefusedReplay(id: string) {
    for (const query of ['', '?force=true']) {
      const res = await svc.api(`/api/webhooks/${id}/replay${query}`, { method: 'POST' });
      assert.equal(res.status, 409, JSON.stringify(res.body));
      assert.equal(res.body.error.code, 'WH_ERR_REPLAY_NOT_AUTHENTICATED');
      assert.match(res.body.error.message, /only authenticated webhooks can be replayed/);
    }
  }

  it('refuses to replay a 401 (wrong secret) payload, even with force=true, and creates no signal', async () => {
    const bad = await svc.post(alert({ ticker: 'FORGED', quantity: 1000, secret: 'not-the-secret' }));
    assert.equal(bad.status, 401);
    assert.equal((await recorded(bad.body.webhookId)).webhook.status, 'rejected');
    await expectRefusedReplay(bad.body.webhookId);
    assert.equal(await signalsFor('FORGED'), 0);
  });

  it('refuses to replay a payload that carried no secret at all (401 WH_ERR_AUTH_MISSING)', async () => {
    const { secret: _s, ...noSecret } = alert({ ticker: 'NOSECRET', quantity: 1000 });
    const bad = await svc.post(noSecret);
    assert.equal(bad.status, 401);
    await recorded(bad.body.webhookId);
    await expectRefusedReplay(bad.body.webhookId);
    assert.equal(await signalsFor('NOSECRET'), 0);
  });

  it('refuses to replay a 422 record whose refusal came before authentication (nothing proves its sender)', async () => {
    // The record a validation step placed before authentication writes: a parsed payload, refused with 422,
    // and no authentication result. The rule reads signature_valid, not the status or the code.
    const id = uuidv7();
    await svc.pool.query(
      `INSERT INTO webhook_requests (id, created_at, processing_time_ms, status, http_status, error_code, payload, payload_size)
       VALUES ($1, now(), 1, 'rejected', 422, 'WH_ERR_INVALID_PAYLOAD', $2, 60)`,
      [id, JSON.stringify({ ticker: 'PREAUTH', action: 'buy', quantity: 1000, price: 1 })],
    );
    await expectRefusedReplay(id);
    assert.equal(await signalsFor('PREAUTH'), 0);
  });

  it('without force, a replay of a webhook that stored a signal is its duplicate, even after the dedupe window', async () => {
    const ok = await svc.post(alert({ ticker: 'ONCE', price: 10 }));
    assert.equal(ok.body.status, 'accepted');
    await recorded(ok.body.webhookId);
    // The dedupe window has passed (moved, not waited for): dedupe alone would store the replay as a new order.
    await svc.pool.query("UPDATE signals SET received_at = now() - interval '2 minutes', dedupe_until = now() - interval '1 minute' WHERE id = $1", [ok.body.signalId]);
    const replay = await svc.api(`/api/webhooks/${ok.body.webhookId}/replay`, { method: 'POST' });
    assert.equal(replay.status, 200, JSON.stringify(replay.body));
    assert.deepEqual([replay.body.status, replay.body.signalId], ['duplicate', ok.body.signalId]);
    assert.equal(await signalsFor('ONCE'), 1);
    const record = await recorded(replay.body.webhookId);
    assert.deepEqual([record.webhook.status, record.webhook.outcome], ['success', 'duplicate']);
  });

  it('still replays an authenticated webhook, and a replay of that replay', async () => {
    const ok = await svc.post(alert({ ticker: 'AUTHED', price: 10 }));
    assert.equal(ok.status, 200);
    await recorded(ok.body.webhookId);
    const forced = await svc.api(`/api/webhooks/${ok.body.webhookId}/replay?force=true`, { method: 'POST' });
    assert.equal(forced.status, 200, JSON.stringify(forced.body));
    assert.equal(forced.body.status, 'accepted');
    const replayRecord = await recorded(forced.body.webhookId);
    assert.equal(replayRecord.webhook.signatureValid, true);
    const again = await svc.api(`/api/webhooks/${forced.body.webhookId}/replay?force=true`, { method: 'POST' });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(await signalsFor('AUTHED'), 3);
  });
});
