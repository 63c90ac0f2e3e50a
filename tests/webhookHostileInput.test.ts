import assert from 'node:assert/strict';
import { applyFill } from '../src/execution/applyFill.js';
import { PermanentExecutionError } from '../src/execution/executor.js';
import { ConfigError, parseConfig } from '../src/config/parseConfig.js';
import { startOtlpReceiver } from './support/startOtlpReceiver.js';
import { alert, startTestService, TEST_SECRET, type TestService } from './support/startTestService.js';
import { waitFor } from './support/waitFor.js';

type Answer = { status: number; body: any };

function expectRefusal(res: Answer, status: number, code: string, fields?: string[]) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.error.code, code, JSON.stringify(res.body));
  if (fields) assert.deepEqual(res.body.error.details.fields.map((f: { field: string }) => f.field), fields, JSON.stringify(res.body));
}

describe('webhook endpoint: hostile input from an authenticated sender', () => {
  let svc: TestService;
  before(async () => {
    svc = await startTestService({ MONITORING_FLUSH_INTERVAL_MS: '20' });
  });
  after(async () => svc.close());

  async function record(webhookId: string) {
    return waitFor(async () => {
      const r = await svc.api(`/api/webhooks/${webhookId}`);
      return r.status === 200 ? r.body : undefined;
    }, { what: `record of ${webhookId}` });
  }

  for (const word of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', '__defineGetter__']) {
    it(`answers 422 WH_ERR_UNKNOWN_ACTION to the action "${word}" (a name on Object.prototype)`, async () => {
      const res = await svc.post(alert({ action: word }));
      expectRefusal(res, 422, 'WH_ERR_UNKNOWN_ACTION');
      assert.equal(res.body.error.details.field, 'action');
    });
  }

  for (const time of [1e300, -5, 1e15, 8.64e15 + 1, '99999999999999999999', '1e20', '-1', '+010000-01-01T00:00:00Z', '275760-09-13T00:00:00Z']) {
    it(`answers 422 naming time for the absurd alert time ${JSON.stringify(time)}`, async () => {
      const res = await svc.post(alert({ time }));
      expectRefusal(res, 422, 'WH_ERR_INVALID_PAYLOAD', ['time']);
      assert.match(res.body.error.message, /between the years 2000 and 9999/);
    });
  }

  it('accepts alert times up to the end of year 9999', async () => {
    const res = await svc.post(alert({ time: '9999-12-31T23:59:59.999Z', price: 1.25 }));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const signal = await svc.api(`/api/signals/${res.body.signalId}`);
    assert.equal(signal.body.signal.alertTime, '9999-12-31T23:59:59.999Z');
  });

  const unstorable: Array<[string, string, string[]]> = [
    ['NUL in a top-level field', JSON.stringify(alert({ strategy: 'a\u0000b' })), ['strategy']],
    ['NUL in the action', JSON.stringify(alert({ action: 'buy\u0000' })), ['action']],
    ['NUL in an extra field', JSON.stringify(alert({ note: 'x\u0000' })), ['note']],
    ['NUL in a field name', JSON.stringify(alert({ 'no\u0000te': 'x' })), ['no\\u0000te (the name)']],
    ['a lone surrogate in an extra field', `{"secret":"${TEST_SECRET}","ticker":"BTCUSD","action":"buy","note":"\\ud800"}`, ['note']],
    ['a lone surrogate in the nested strategy object', `{"secret":"${TEST_SECRET}","ticker":"BTCUSD","strategy":{"order_action":"buy","comment":["ok","\\udfff"]}}`, ['strategy.comment[1]']],
  ];
  for (const [name, body, fields] of unstorable) {
    it(`answers 422 naming the field for ${name}, and records the webhook`, async () => {
      const res = await svc.post(body);
      expectRefusal(res, 422, 'WH_ERR_INVALID_PAYLOAD', fields);
      assert.match(res.body.error.message, /NUL character or invalid Unicode/);
      const rec = await record(res.body.webhookId);
      assert.equal(rec.webhook.status, 'rejected');
      assert.equal(rec.webhook.errorCode, 'WH_ERR_INVALID_PAYLOAD');
    });
  }

  it('records the webhook of a KEY=VALUE body holding a NUL character', async () => {
    const res = await svc.post(`secret=${TEST_SECRET}\nticker=BTCUSD\naction=buy\nnote=a\u0000b`, { contentType: 'text/plain' });
    expectRefusal(res, 422, 'WH_ERR_INVALID_PAYLOAD', ['note']);
    const rec = await record(res.body.webhookId);
    assert.equal(rec.webhook.payload.note, 'a\uFFFDb');
  });

  const badNumbers: Array<[string, Record<string, unknown>, string]> = [
    ['a quantity that makes the book infinite', { quantity: 1e308 }, 'quantity'],
    ['a quantity above INPUT_MAX_QUANTITY', { quantity: '1000000000001' }, 'quantity'],
    ['a price above INPUT_MAX_PRICE', { price: 1e13 }, 'price'],
    ['a position size above INPUT_MAX_QUANTITY', { position_size: -1e13 }, 'positionSize'],
    ['a hexadecimal quantity', { quantity: '0x10' }, 'quantity'],
    ['a binary quantity', { quantity: '0b11' }, 'quantity'],
    ['an octal price', { price: '0o7' }, 'price'],
    ['an overflowing exponent', { price: '1e400' }, 'price'],
    ['Infinity as text', { quantity: 'Infinity' }, 'quantity'],
    ['blank text', { price: '   ' }, 'price'],
    ['a boolean', { price: true }, 'price'],
  ];
  for (const [name, fields, field] of badNumbers) {
    it(`answers 422 naming ${field} for ${name}`, async () => {
      expectRefusal(await svc.post(alert(fields)), 422, 'WH_ERR_INVALID_PAYLOAD', [field]);
    });
  }

  it('answers 422 for a JSON number that overflows to Infinity', async () => {
    const res = await svc.post(`{"secret":"${TEST_SECRET}","ticker":"BTCUSD","action":"buy","quantity":1,"price":1e400}`);
    expectRefusal(res, 422, 'WH_ERR_INVALID_PAYLOAD', ['price']);
  });

  for (const [action, quantity] of [['buy', 0], ['sell', '0'], ['buy', '-0'], ['sell', -0]] as const) {
    it(`answers 422 naming quantity for ${action} of ${JSON.stringify(quantity)}`, async () => {
      const res = await svc.post(alert({ action, quantity }));
      expectRefusal(res, 422, 'WH_ERR_INVALID_PAYLOAD', ['quantity']);
      assert.match(res.body.error.message, /more than 0/);
    });
  }

  it('still accepts close with quantity 0, decimals with _ separators, exponents and bounds themselves', async () => {
    for (const fields of [
      { action: 'close', quantity: 0, price: 3.5 },
      { quantity: '1_000', price: '2.5e3' },
      { quantity: 1e12, price: '1000000000000' },
      { quantity: ' .5 ', price: '+7.' },
    ]) {
      const res = await svc.post(alert(fields));
      assert.equal(res.status, 200, `${JSON.stringify(fields)}: ${JSON.stringify(res.body)}`);
    }
  });

  it('answers 400 for JSON nested deeper than 32 levels, and records it', async () => {
    const deep = `{"secret":"${TEST_SECRET}","ticker":"BTCUSD","action":"buy","x":${'['.repeat(30_000)}${']'.repeat(30_000)}}`;
    const res = await svc.post(deep);
    expectRefusal(res, 400, 'WH_ERR_MALFORMED_BODY');
    assert.match(res.body.error.message, /deeper than 32 levels/);
    assert.equal((await record(res.body.webhookId)).webhook.status, 'rejected');
    // 32 levels are fine.
    const ok = `{"secret":"${TEST_SECRET}","ticker":"BTCUSD","action":"buy","price":9.75,"x":${'['.repeat(31)}${']'.repeat(31)}}`;
    assert.equal((await svc.post(ok)).status, 200);
  });
});

describe('webhook endpoint: parse errors never quote the body', () => {
  const SECRET = 'Qz7kW2xJ9vB4nM6p';
  let svc: TestService;
  let otlp: Awaited<ReturnType<typeof startOtlpReceiver>>;
  before(async () => {
    otlp = await startOtlpReceiver();
    svc = await startTestService({ WEBHOOK_SECRETS: SECRET, OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint, MONITORING_FLUSH_INTERVAL_MS: '20' });
  });
  after(async () => {
    await svc.close();
    await otlp.close();
  });

  const bodies: Array<[string, string, string, RegExp]> = [
    ['a KEY=VALUE typo (secret <value>)', `secret ${SECRET}`, 'text/plain', /Pair 1 \(line 1\) is not KEY=VALUE/],
    ['a typo on a later line', `ticker=BTCUSD\naction=buy\n\nsecret ${SECRET}`, 'text/plain', /Pair 3 \(line 4\)/],
    ['an unquoted JSON value', `{"secret": ${SECRET}}`, 'application/json', /line 1, column 12 \(character 12\): expected a JSON value/],
    ['an unquoted value on a later line, sent as text/plain', `\n{"ticker": "BTCUSD",\n "secret": ${SECRET}, "action": "buy"}`, 'text/plain', /line 3, column 12 \(character 34\)/],
    ['a missing quote', `{"secret": "${SECRET}}`, 'application/json', /expected a closing double quote/],
    ['a trailing comma', `{"secret": "${SECRET}",}`, 'application/json', /expected a field name in double quotes/],
  ];
  for (const [name, body, contentType, message] of bodies) {
    it(`${name}: the answer, the record (with stages) and the exported spans hold no part of the secret`, async () => {
      const exportsBefore = otlp.raw.length;
      const res = await svc.post(body, { contentType });
      expectRefusal(res, 400, 'WH_ERR_MALFORMED_BODY');
      const rec = await waitFor(async () => {
        const r = await svc.api(`/api/webhooks/${res.body.webhookId}`);
        return r.status === 200 ? r.body : undefined;
      }, { what: 'record' });
      assert.equal(rec.webhook.errorMessage, res.body.error.message);
      await waitFor(async () => otlp.spans.some((s) => s.attributes['webhook.id'] === res.body.webhookId), { what: 'exported span' });
      // V8's JSON.parse message quoted up to 10 characters around the error: no 6-character piece may appear.
      const pieces = Array.from({ length: SECRET.length - 5 }, (_, i) => SECRET.slice(i, i + 6));
      for (const [where, text] of [['answer', JSON.stringify(res.body)], ['record', JSON.stringify(rec)], ['OTLP export', otlp.raw.slice(exportsBefore).join('\n')]]) {
        for (const piece of pieces) assert.equal(text!.includes(piece), false, `${where} holds "${piece}": ${text!.slice(0, 2000)}`);
      }
      // Instead: where the error is, and what was expected there.
      assert.match(res.body.error.message, message);
    });
  }
});

describe('input bounds: configurable, and the paper book refuses what would overflow it', () => {
  it('INPUT_MAX_QUANTITY and INPUT_MAX_PRICE move the bounds', async () => {
    const svc = await startTestService({ INPUT_MAX_QUANTITY: '100', INPUT_MAX_PRICE: '50' });
    try {
      assert.equal((await svc.post(alert({ quantity: 100, price: 50 }))).status, 200);
      const res = await svc.post(alert({ quantity: 101, price: 51 }));
      expectRefusal(res, 422, 'WH_ERR_INVALID_PAYLOAD', ['quantity', 'price']);
      assert.match(res.body.error.message, /quantity must be at most 100 \(INPUT_MAX_QUANTITY\); price must be at most 50 \(INPUT_MAX_PRICE\)/);
    } finally {
      await svc.close();
    }
  });

  it('a wrong INPUT_MAX_QUANTITY or INPUT_MAX_PRICE stops start-up, naming the variable', () => {
    assert.throws(() => parseConfig({ INPUT_MAX_QUANTITY: '0' }), (err: Error) => err instanceof ConfigError && /INPUT_MAX_QUANTITY/.test(err.message));
    assert.throws(() => parseConfig({ INPUT_MAX_PRICE: '1e300' }), (err: Error) => err instanceof ConfigError && /INPUT_MAX_PRICE/.test(err.message));
  });

  it('applyFill fails a fill that would make the book infinite (a signal stored before the bounds)', () => {
    assert.throws(() => applyFill({ quantity: 0, averagePrice: 0, realizedPnl: 0 }, 'buy', 1e308, 1e308), PermanentExecutionError);
    assert.throws(() => applyFill({ quantity: 1e308, averagePrice: 1, realizedPnl: 0 }, 'sell', 1e308, 1e308), PermanentExecutionError);
  });
});
