import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startTestServer, stopTestServer } from '../tests/support/testDatabase.js';
import { startTestService } from '../tests/support/startTestService.js';
import { encodeOtlpSpans } from '../src/telemetry/encodeOtlpSpans.js';
import type { FinishedWebhook } from '../src/telemetry/finishedWebhook.js';
import { makeMetrics } from '../src/telemetry/makeMetrics.js';
import { makeWebhookMetrics } from '../src/telemetry/makeWebhookMetrics.js';
import { makeWebhookRecord } from '../src/telemetry/makeWebhookRecord.js';
import { ProtobufWriter } from '../src/telemetry/protobufWriter.js';
import { serializeRecord } from '../src/telemetry/serializeRecord.js';
import { getWebhookHub } from '../src/telemetry/webhookHub.js';
import { BENCH_SECRET } from './requestMix.js';

/**
 * `node dist/bench/consumerCost.js [webhooks] [rounds]`: CPU per webhook of each monitoring consumer, on the
 * service's own finished webhooks (the bench's mix, sent to a real service for a second and captured from the
 * webhook hub), each consumer run over all of them 50 times a round, the consumers alternating round by round.
 * No I/O: the record's write, the OTLP request and the scrape are not in these figures.
 */
const limit = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 6);
const sender = fileURLToPath(new URL('./requestSender.js', import.meta.url));

await startTestServer();
const webhooks: FinishedWebhook[] = [];
try {
  const svc = await startTestService({ WEBHOOK_SECRETS: BENCH_SECRET, MONITORING_REJECTED_PER_MINUTE: '0', MONITORING_REJECTED_PER_CLIENT_PER_MINUTE: '0' });
  const detach = getWebhookHub().attach((w) => void (webhooks.length < limit && webhooks.push(w)), () => undefined);
  try {
    await new Promise<void>((resolve, reject) =>
      spawn(process.execPath, [sender, `${svc.url}/api/webhooks/tradingview`, '1', '0', '0'], { stdio: 'ignore' }).on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`sender exited with ${code}`)))),
    );
  } finally {
    detach();
    await svc.close();
  }
} finally {
  await stopTestServer();
}

const observe = makeWebhookMetrics(makeMetrics());
const writer = new ProtobufWriter(1 << 20);
const consumers: Record<string, (w: FinishedWebhook) => unknown> = {
  'record (makeWebhookRecord)': (w) => makeWebhookRecord(w),
  'record and its COPY tuple': (w) => serializeRecord(makeWebhookRecord(w)),
  'metrics': (w) => observe(w),
  'OTLP encoding': (w) => {
    if (writer.pos > 900_000) writer.pos = 0;
    encodeOtlpSpans(w, writer);
  },
};
const perRound: Record<string, number[]> = {};
let kept = 0;
for (let round = 0; round < rounds; round += 1) {
  const names = Object.keys(consumers);
  for (const name of round % 2 ? names.reverse() : names) {
    const consume = consumers[name]!;
    const start = process.hrtime.bigint();
    for (let pass = 0; pass < 50; pass += 1) for (const w of webhooks) if (consume(w) !== undefined) kept += 1;
    (perRound[name] ??= []).push(Number(process.hrtime.bigint() - start) / 1000 / (50 * webhooks.length));
  }
}
console.log(`${webhooks.length} webhooks (${webhooks.filter((w) => w.status === 'rejected').length} rejected), ${rounds} rounds, ${kept} results; µs a webhook (median of the rounds):`);
for (const [name, us] of Object.entries(perRound)) {
  const sorted = [...us].sort((a, b) => a - b);
  console.log(`  ${name.padEnd(28)} ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2).padStart(6)}   rounds: ${us.map((x) => x.toFixed(2)).join(' ')}`);
}
