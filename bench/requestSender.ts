import http from 'node:http';

/**
 * The sender of bench/requestCost.ts, a process of its own so that its CPU and garbage are not the service's:
 * `node requestSender.js <url> <count> <secret> [rate] [start]`. The bench's mix (80% new alerts over 20
 * symbols, 10% repeats, 10% wrong secret), 20 keep-alive connections; closed loop, or paced at `rate` a second.
 */
const [urlText, countText, secret, rateText, startText] = process.argv.slice(2);
const url = new URL(urlText!);
const rate = Number(rateText || 0);
const agent = new http.Agent({ keepAlive: true, maxSockets: rate > 0 ? 64 : 20 });
let n = Number(startText || 0);

function send(): Promise<void> {
  n += 1;
  const i = n;
  const body = JSON.stringify({
    secret: i % 10 === 0 ? 'wrong-secret-0123456789' : secret,
    ticker: `BINANCE:SYM${i % 20}USDT`,
    action: i % 2 ? 'buy' : 'sell',
    quantity: '0.5',
    price: String(50000 + (i % 10 === 1 ? 1 : i)),
    strategy: 'breakout',
    time: new Date().toISOString(),
  });
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'user-agent': 'Go-http-client/1.1' } }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const total = Number(countText);
if (rate > 0) {
  const start = performance.now();
  const pending: Array<Promise<void>> = [];
  for (let k = 0; k < total; k += 1) {
    const wait = start + (k * 1000) / rate - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(send());
  }
  await Promise.all(pending);
} else {
  let left = total;
  await Promise.all(Array.from({ length: 20 }, async () => {
    while (left-- > 0) await send();
  }));
}
agent.destroy();
