import { parentPort } from 'node:worker_threads';
import { startDiscardingReceiver } from './startDiscardingReceiver.js';

/**
 * The discarding OTLP receiver on a thread of its own (bench/encodeOtlp.ts): its parsing and answering stay off
 * the thread whose CPU is measured. Answers 'stats' with its counts and its own thread's CPU (µs).
 */
const receiver = await startDiscardingReceiver();
const port = parentPort!;
port.postMessage({ endpoint: receiver.endpoint });
port.on('message', (message: string) => {
  if (message === 'stats') {
    const cpu = process.threadCpuUsage();
    port.postMessage({ ...receiver.stats(), cpuMicros: cpu.user + cpu.system });
  } else if (message === 'close') {
    void receiver.close().then(() => port.close());
  }
});
