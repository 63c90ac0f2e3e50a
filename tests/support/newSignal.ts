import { uuidv7 } from 'uuidv7';
import type { Signal } from '../../src/domain/types.js';
import type { NewSignal } from '../../src/pipeline/insertSignals.js';

/**
 * A signal as the pipeline hands it to the signal writer: a buy of BTCUSDT on BINANCE unless `fields` says
 * otherwise, queued, with a dedupe window of a minute from now under `key` (a fresh key unless given).
 */
export function newSignal(fields: Partial<Signal> = {}, key = uuidv7(), overrides: Partial<NewSignal> = {}): NewSignal {
  const signal: Signal = {
    ticker: 'BTCUSDT', exchange: 'BINANCE', action: 'buy', quantity: 1, price: 100, strategy: null, interval: null,
    alertTime: null, alertId: null, orderId: null, marketPosition: null, positionSize: null, prevMarketPosition: null, prevPositionSize: null, extra: {}, ...fields,
  };
  const receivedAt = new Date();
  return {
    id: uuidv7(), webhookId: uuidv7(), signal, dedupe: { key, until: new Date(receivedAt.getTime() + 60_000) }, status: 'queued',
    declineReason: null, traceId: null, receivedAt, traceparent: null, maxAttempts: 5, ...overrides,
  };
}
