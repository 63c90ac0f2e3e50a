import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

export interface ReceiverStats {
  requests: number;
  bytes: number;
  spans: number;
  unreadable: number;
  /** CPU of the receiver's thread (µs). */
  cpuMicros: number;
}

/**
 * The discarding OTLP receiver (startDiscardingReceiver) on a thread of its own, as a collector would be a
 * process of its own: reading and counting an export request (up to 1 MiB) never holds up the thread that sends
 * the load and times the answers.
 */
export async function startReceiverThread() {
  const worker = new Worker(new URL('./discardingReceiverThread.js', import.meta.url));
  const [{ endpoint }] = (await once(worker, 'message')) as [{ endpoint: string }];
  const stats = async (): Promise<ReceiverStats> => {
    worker.postMessage('stats');
    const [s] = (await once(worker, 'message')) as [ReceiverStats];
    return s;
  };
  return { endpoint, url: `${endpoint}/v1/traces`, stats, close: async () => void (await worker.terminate()) };
}
