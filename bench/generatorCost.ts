import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { runPaced } from './pacedLoad.js';

/**
 * What the paced generator (pacedLoad.ts) costs its own process per request: the CPU that, on the bench's two
 * cores, the service under test does not get. Against a bare node:http server in another process that answers
 * every request with a 503 and Retry-After after `--hold-ms` (0: at once; 200: connections stay busy, as in the
 * overload phase, and more of them are opened and closed). After a 1 s warm-up at 2,000 req/s, `--rounds` runs
 * of `--seconds` at `--rate`; prints the generator's CPU per request (user + system, and system alone).
 *
 *   node dist/bench/generatorCost.js --rate 6600 --hold-ms 200
 */
const { values: flags } = parseArgs({
  options: {
    rate: { type: 'string', default: '6600' },
    seconds: { type: 'string', default: '5' },
    'hold-ms': { type: 'string', default: '0' },
    rounds: { type: 'string', default: '2' },
  },
});
const holdMs = Number(flags['hold-ms']);
const server = spawn(
  process.execPath,
  [
    '-e',
    `const s = require('node:http').createServer((q, r) => { q.resume(); q.on('end', () => setTimeout(() => { r.writeHead(503, { 'retry-after': '5' }); r.end('{}'); }, ${holdMs})); });` +
      `s.keepAliveTimeout = 65000; s.listen(0, '127.0.0.1', () => console.log(s.address().port));`,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
try {
  const port = await new Promise<number>((resolve, reject) => {
    server.stdout.once('data', (d: Buffer) => resolve(Number(String(d))));
    server.once('exit', (code) => reject(new Error(`the bare server exited (${code}) before it listened`)));
  });
  const url = `http://127.0.0.1:${port}/api/webhooks/tradingview`;
  await runPaced(url, 2000, 1000, () => '{"ticker":"BTCUSD"}');
  for (let round = 1; round <= Number(flags.rounds); round += 1) {
    const before = process.cpuUsage();
    const r = await runPaced(url, Number(flags.rate), Number(flags.seconds) * 1000, () => '{"ticker":"BTCUSD"}');
    const cpu = process.cpuUsage(before);
    const opened = r.timeline.reduce((n, w) => n + w.opened.n, 0);
    console.log(
      `round ${round}: ${r.answered} answered at ${flags.rate}/s (held ${holdMs} ms), generator CPU ${((cpu.user + cpu.system) / r.answered).toFixed(1)} µs a request` +
        ` (system ${(cpu.system / r.answered).toFixed(1)}); ${opened} connections opened; p99 ${r.latencyMs.p99.toFixed(1)} ms, sent late by p99 ${r.sendLagMs.p99.toFixed(1)} ms`,
    );
  }
} finally {
  server.kill();
}
