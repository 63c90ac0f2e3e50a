import assert from 'node:assert/strict';
import { type ErrorCode, WebhookError } from '../src/domain/errors.js';
import type { Signal } from '../src/domain/types.js';
import { decide, type Policy } from '../src/pipeline/decide.js';
import { enrich } from '../src/pipeline/enrich.js';
import { findPlaceholders, hasPlaceholder } from '../src/pipeline/findPlaceholders.js';
import { MAX_NESTING_DEPTH, parseBody } from '../src/pipeline/parseBody.js';
import { resolveAliases } from '../src/pipeline/resolveAliases.js';
import type { ValidAlert } from '../src/pipeline/validateAlert.js';

/**
 * The pure steps of the webhook pipeline, called directly: no server, no database. The HTTP tests
 * (webhookParsing, webhookRejections, dedupeAndDecide, ...) check the same behaviour end to end.
 */

const refusedWith = (code: ErrorCode, message?: RegExp) => (err: unknown) =>
  err instanceof WebhookError && err.code === code && (message === undefined || message.test(err.message));

const json = (text: string) => ({ mediaType: 'application/json' as const, text });
const plain = (text: string) => ({ mediaType: 'text/plain' as const, text });

describe('parseBody: body text to fields', () => {
  it('returns a JSON object as it is, from application/json or from text/plain holding JSON', () => {
    assert.deepEqual(parseBody(json('{"ticker":"AAPL","price":187.5}')), { ticker: 'AAPL', price: 187.5 });
    assert.deepEqual(parseBody(plain('  {"ticker":"AAPL"}\n')), { ticker: 'AAPL' });
  });

  it('reads KEY=VALUE pairs split by newlines, ";" or ",", with ":" when there is no "=", and unquotes values', () => {
    assert.deepEqual(parseBody(plain('ticker=NASDAQ:AAPL\naction="buy"; qty=2, price: 10')), {
      ticker: 'NASDAQ:AAPL',
      action: 'buy',
      qty: '2',
      price: '10',
    });
  });

  it('refuses JSON that does not parse with a position, never the text (it may hold the secret)', () => {
    assert.throws(
      () => parseBody(json('{"secret":"hunter2-very-secret", "ticker": }')),
      (err: unknown) => refusedWith('WH_ERR_MALFORMED_BODY', /not valid JSON/)(err) && !(err as Error).message.includes('hunter2'),
    );
  });

  it('refuses JSON that is not an object, and objects nested deeper than MAX_NESTING_DEPTH', () => {
    assert.throws(() => parseBody(json('[1,2]')), refusedWith('WH_ERR_MALFORMED_BODY', /must be an object/));
    assert.throws(() => parseBody(json('"text"')), refusedWith('WH_ERR_MALFORMED_BODY', /must be an object/));
    const deep = `{"a":${'['.repeat(MAX_NESTING_DEPTH + 1)}${']'.repeat(MAX_NESTING_DEPTH + 1)}}`;
    assert.throws(() => parseBody(json(deep)), refusedWith('WH_ERR_MALFORMED_BODY', new RegExp(`deeper than ${MAX_NESTING_DEPTH}`)));
    const shallow = `{"a":${'['.repeat(MAX_NESTING_DEPTH - 1)}${']'.repeat(MAX_NESTING_DEPTH - 1)}}`;
    assert.doesNotThrow(() => parseBody(json(shallow)));
  });

  it('names the pair and line that is not KEY=VALUE, and bounds the number of pairs', () => {
    assert.throws(() => parseBody(plain('ticker=AAPL\n\njust words')), refusedWith('WH_ERR_MALFORMED_BODY', /Pair 2 \(line 3\)/));
    const many = Array.from({ length: 201 }, (_, i) => `k${i}=v`).join('\n');
    assert.throws(() => parseBody(plain(many)), refusedWith('WH_ERR_MALFORMED_BODY', /Too many KEY=VALUE pairs \(201\)/));
  });
});

describe('resolveAliases: sender field names to the canonical alert', () => {
  it('maps published aliases, compared without case, "_", "-", "." or spaces', () => {
    const alert = resolveAliases({ Symbol: 'BTCUSDT', 'Order-Action': 'long', qty: 3, close: 10, timenow: '2024-01-01T00:00:00Z', note: 'x' });
    assert.deepEqual(alert, { ticker: 'BTCUSDT', action: 'long', quantity: 3, price: 10, time: '2024-01-01T00:00:00Z', extra: { note: 'x' } });
  });

  it('takes the first alias in order of precedence', () => {
    const alert = resolveAliases({ symbol: 'SECOND', ticker: 'FIRST' });
    assert.equal(alert.ticker, 'FIRST');
    assert.deepEqual(alert.extra, { symbol: 'SECOND' });
  });

  it("reads the strategy template's nested object, top-level fields winning, and keeps the object whole", () => {
    const strategy = { order: 'ignored', order_action: 'sell', order_contracts: 5, order_price: 99, order_id: 'Long', position_size: -5 };
    const alert = resolveAliases({ ticker: 'ES1!', price: 100, strategy });
    assert.equal(alert.action, 'sell');
    assert.equal(alert.quantity, 5);
    assert.equal(alert.price, 100, 'the top-level price wins over strategy.order_price');
    assert.equal(alert.orderId, 'Long', "strategy.order_id is the order's name, kept as orderId");
    assert.equal(alert.id, undefined);
    assert.equal(alert.positionSize, -5);
    assert.deepEqual(alert.extra, { strategy });
  });
});

/** A validated alert as validateAlert makes it: only the fields a test sets. */
const valid = (fields: Partial<ValidAlert>): ValidAlert => ({ ticker: 'AAPL', action: 'buy', extra: {}, ...fields }) as ValidAlert;

describe('enrich: a valid alert to a signal', () => {
  it('splits EXCHANGE:SYMBOL, upper-cases, and maps action words in any case', () => {
    const signal = enrich(valid({ ticker: 'nasdaq:aapl', action: 'LONG', quantity: 2, price: 187.5 }));
    assert.equal(signal.ticker, 'AAPL');
    assert.equal(signal.exchange, 'NASDAQ');
    assert.equal(signal.action, 'buy');
    assert.equal(enrich(valid({ action: 'Flat' })).action, 'close');
    assert.equal(enrich(valid({ action: 'short' })).action, 'sell');
  });

  it('refuses an action word it does not know, including names of Object.prototype members', () => {
    for (const action of ['hold', 'constructor', '__proto__']) {
      assert.throws(() => enrich(valid({ action })), refusedWith('WH_ERR_UNKNOWN_ACTION', /use one of buy, long/), action);
    }
  });

  it('refuses an exchange prefix with no symbol after it', () => {
    assert.throws(() => enrich(valid({ ticker: 'NASDAQ:' })), refusedWith('WH_ERR_INVALID_PAYLOAD', /no symbol after the exchange prefix/));
  });

  it('reads the alert time as ISO 8601, epoch seconds or epoch milliseconds, and refuses one outside 2000-9999', () => {
    const at = Date.UTC(2024, 5, 1, 12);
    assert.equal(enrich(valid({ time: new Date(at).toISOString() })).alertTime?.getTime(), at);
    assert.equal(enrich(valid({ time: at / 1000 })).alertTime?.getTime(), at);
    assert.equal(enrich(valid({ time: at })).alertTime?.getTime(), at);
    assert.throws(() => enrich(valid({ time: '-1' })), refusedWith('WH_ERR_INVALID_PAYLOAD', /between the years 2000 and 9999/));
    assert.throws(() => enrich(valid({ time: 1e20 })), refusedWith('WH_ERR_INVALID_PAYLOAD', /between the years 2000 and 9999/));
  });

  it('refuses a buy or sell of nothing, but lets a close say 0', () => {
    assert.throws(() => enrich(valid({ action: 'buy', quantity: 0 })), refusedWith('WH_ERR_INVALID_PAYLOAD', /more than 0 for buy/));
    assert.throws(() => enrich(valid({ action: 'sell', quantity: -0 })), refusedWith('WH_ERR_INVALID_PAYLOAD', /more than 0 for sell/));
    assert.equal(enrich(valid({ action: 'close', quantity: 0 })).quantity, 0);
  });
});

const signal = (fields: Partial<Signal>): Signal => ({
  ticker: 'AAPL',
  exchange: 'NASDAQ',
  action: 'buy',
  quantity: 10,
  price: 100,
  strategy: null,
  interval: null,
  alertTime: null,
  alertId: null,
  orderId: null,
  marketPosition: null,
  positionSize: null,
  prevMarketPosition: null,
  prevPositionSize: null,
  extra: {},
  ...fields,
});
const open: Policy = { allowedSymbols: [], maxQuantity: 0, maxNotional: 0, maxAlertAgeSeconds: 0 };
const now = new Date(Date.UTC(2024, 5, 1, 12));

describe('decide: the trading policy', () => {
  it('accepts anything when every limit is off (0 or empty)', () => {
    assert.deepEqual(decide(signal({ quantity: 1e9, price: 1e6, alertTime: new Date(0) }), open, now), { kind: 'accept' });
  });

  it('declines an alert older than MAX_ALERT_AGE_SECONDS, measured against the `now` it is given', () => {
    const policy = { ...open, maxAlertAgeSeconds: 60 };
    const alertTime = new Date(now.getTime() - 61_000);
    const declined = decide(signal({ alertTime }), policy, now);
    assert.equal(declined.kind === 'decline' && declined.reason, 'stale_alert');
    assert.deepEqual(decide(signal({ alertTime }), policy, new Date(now.getTime() - 2_000)), { kind: 'accept' });
    assert.deepEqual(decide(signal({ alertTime: null }), policy, now), { kind: 'accept' }, 'no alert time: nothing to measure');
  });

  it('declines a symbol not in ALLOWED_SYMBOLS, which may name it with or without its exchange', () => {
    const declined = decide(signal({ ticker: 'TSLA' }), { ...open, allowedSymbols: ['AAPL'] }, now);
    assert.deepEqual(declined, { kind: 'decline', reason: 'symbol_not_allowed', message: 'NASDAQ:TSLA is not in ALLOWED_SYMBOLS.' });
    assert.deepEqual(decide(signal({}), { ...open, allowedSymbols: ['NASDAQ:AAPL'] }, now), { kind: 'accept' });
    assert.deepEqual(decide(signal({}), { ...open, allowedSymbols: ['AAPL'] }, now), { kind: 'accept' });
  });

  it('declines a quantity above MAX_QUANTITY and a notional above MAX_NOTIONAL', () => {
    const q = decide(signal({ quantity: 11 }), { ...open, maxQuantity: 10 }, now);
    assert.equal(q.kind === 'decline' && q.reason, 'quantity_above_limit');
    assert.deepEqual(decide(signal({ quantity: 10 }), { ...open, maxQuantity: 10 }, now), { kind: 'accept' });
    const n = decide(signal({ quantity: 10, price: 100.5 }), { ...open, maxNotional: 1000 }, now);
    assert.deepEqual(n, { kind: 'decline', reason: 'notional_above_limit', message: 'Notional 1005 (quantity x price) is above MAX_NOTIONAL 1000.' });
    assert.deepEqual(decide(signal({ price: null }), { ...open, maxNotional: 1 }, now), { kind: 'accept' }, 'no price: no notional');
  });
});

describe('findPlaceholders: values still holding a TradingView placeholder', () => {
  it('gives the path of every value with {{...}} left in it', () => {
    const found = findPlaceholders({ ticker: '{{ticker}}', price: 10, strategy: { order: { action: 'x {{strategy.order.action}}' } }, list: ['ok', '{{close}}'] });
    assert.deepEqual(found, ['ticker', 'strategy.order.action', 'list[1]']);
    assert.deepEqual(findPlaceholders('{{plot_0}}'), ['(body)']);
  });

  it('finds none in substituted values or in braces that do not close', () => {
    assert.deepEqual(findPlaceholders({ ticker: 'AAPL', note: '{{ not closed', json: '{"a":{"b":1}}', one: '{x}' }), []);
  });

  it('reports at most 20 paths and looks at most 8 levels deep', () => {
    const many = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`f${i}`, '{{x}}']));
    assert.equal(findPlaceholders(many).length, 20);
    let deep: unknown = '{{x}}';
    for (let i = 0; i < 10; i++) deep = { d: deep };
    assert.deepEqual(findPlaceholders(deep), []);
  });

  it('scans a long run of "{" in linear time (the regular expression it replaces backtracked)', () => {
    const text = '{'.repeat(200_000);
    const started = performance.now();
    assert.equal(hasPlaceholder(text), false);
    assert.equal(hasPlaceholder(`${text}}}`), true);
    assert.ok(performance.now() - started < 200, `${Math.round(performance.now() - started)} ms`);
  });
});
