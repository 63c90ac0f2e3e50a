/**
 * The traffic every benchmark sends: 80% new valid alerts (each unique, so each becomes a signal), 10% repeats
 * of a recent alert (duplicates), 10% with a wrong secret (401 rejections). Deterministic: request i is always
 * the same kind, so every mode and round sees the same mix.
 */
export const BENCH_SECRET = 'bench-secret-0123456789';
const TICKERS = Array.from({ length: 20 }, (_, i) => `BINANCE:SYM${i}USDT`);

export type RequestKind = 'valid' | 'duplicate' | 'rejected';

/** `start`: the number of requests already sent with the same mix (a later run goes on with new alerts). */
export function makeRequestMix(start = 0) {
  let n = start;
  const recent: string[] = [];
  return function next(): { kind: RequestKind; body: string } {
    n += 1;
    const slot = n % 10;
    if (slot === 3 && recent.length > 0) return { kind: 'duplicate', body: recent[recent.length - 1]! };
    const alert = {
      secret: slot === 7 ? `${BENCH_SECRET}-wrong` : BENCH_SECRET,
      ticker: TICKERS[n % TICKERS.length],
      action: n % 2 === 0 ? 'buy' : 'sell',
      quantity: '0.01',
      price: (50_000 + (n % 100_000) / 100).toFixed(2),
      time: new Date().toISOString(),
      strategy: 'bench',
    };
    const body = JSON.stringify(alert);
    if (slot === 7) return { kind: 'rejected', body };
    recent.push(body);
    if (recent.length > 100) recent.shift();
    return { kind: 'valid', body };
  };
}
