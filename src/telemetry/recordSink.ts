import type { Logger } from 'pino';
import type { Pool } from '../db/makePool.js';
import { toError } from '../http/errors.js';
import type { Metrics } from './makeMetrics.js';
import type { RequestRecord, StageRecord } from './spanToRecords.js';
import { writeRecords } from './writeRecords.js';

export interface SinkOptions {
  /** A pool of its own, whose query timeout bounds every write. */
  pool: Pool;
  /** Webhooks per multi-row write. */
  batchSize: number;
  flushIntervalMs: number;
  /** Records (request and stage rows) held in memory at most; past it the oldest are dropped and counted. */
  maxBufferRecords: number;
  /** Writes of one webhook's records before they are counted as failed. */
  maxAttempts: number;
  /** Records of rejected webhooks kept per minute; beyond it they are counted, not stored. 0 = no bound. */
  rejectedPerMinute: number;
  metrics: Metrics | undefined;
  logger: Logger;
}

interface Entry {
  request: RequestRecord;
  stages: StageRecord[];
  attempts: number;
}

export interface SinkStats {
  bufferedRecords: number;
  maxBufferRecords: number;
  written: number;
  retried: number;
  dropped: number;
  rateLimited: number;
  failed: number;
  lastError: string | null;
  lastErrorAt: string | null;
  lastWriteAt: string | null;
  lastDropAt: string | null;
}

/** Stage records waiting for their request's root span, at most this many webhooks (an in-flight bound). */
const MAX_PENDING_WEBHOOKS = 10_000;
const MAX_BACKOFF_MS = 5_000;

/**
 * The Postgres sink for monitoring records. Nothing here blocks or fails a webhook answer: records are
 * buffered in memory (bounded), written in batches by one writer at a time with a timeout on every write,
 * retried with backoff while the database is slow or down, and counted by outcome. A webhook's stage
 * records wait for its request record (the root span ends last) so that the two are written together.
 */
export class RecordSink {
  private readonly pending = new Map<string, StageRecord[]>();
  private queue: Entry[] = [];
  private queuedRecords = 0;
  /** Records of the batch being written: still in memory, not yet written. */
  private inFlightRecords = 0;
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private consecutiveFailures = 0;
  private stopped = false;
  private rejectedWindow = { minute: 0, count: 0 };
  private readonly stats: Omit<SinkStats, 'bufferedRecords' | 'maxBufferRecords'> = {
    written: 0,
    retried: 0,
    dropped: 0,
    rateLimited: 0,
    failed: 0,
    lastError: null,
    lastErrorAt: null,
    lastWriteAt: null,
    lastDropAt: null,
  };

  constructor(private readonly options: SinkOptions) {
    this.schedule(options.flushIntervalMs);
  }

  addStage(record: StageRecord): void {
    let stages = this.pending.get(record.webhook_id);
    if (!stages) {
      if (this.pending.size >= MAX_PENDING_WEBHOOKS) {
        const oldest = this.pending.keys().next().value as string;
        this.count('dropped', this.pending.get(oldest)?.length ?? 0);
        this.pending.delete(oldest);
      }
      stages = [];
      this.pending.set(record.webhook_id, stages);
    }
    stages.push(record);
  }

  addRequest(record: RequestRecord, now = Date.now()): void {
    const stages = this.pending.get(record.id) ?? [];
    this.pending.delete(record.id);
    const records = 1 + stages.length;
    if (record.status === 'rejected' && this.options.rejectedPerMinute > 0) {
      const minute = Math.floor(now / 60_000);
      if (this.rejectedWindow.minute !== minute) this.rejectedWindow = { minute, count: 0 };
      this.rejectedWindow.count += 1;
      if (this.rejectedWindow.count > this.options.rejectedPerMinute) {
        this.count('rateLimited', records);
        return;
      }
    }
    if (this.stopped) {
      this.count('dropped', records);
      return;
    }
    this.queue.push({ request: record, stages, attempts: 0 });
    this.queuedRecords += records;
    this.enforceBound();
    this.updateBufferGauge();
    if (this.queue.length >= this.options.batchSize && this.consecutiveFailures === 0) this.schedule(0);
  }

  getStats(): SinkStats {
    return { ...this.stats, bufferedRecords: this.queuedRecords + this.inFlightRecords, maxBufferRecords: this.options.maxBufferRecords };
  }

  /** Writes everything buffered (bounded by `timeoutMs`), then stops; later records are counted as dropped. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length > 0 && Date.now() < deadline) {
      await this.flushOnce();
      if (this.consecutiveFailures > 0) await new Promise((r) => setTimeout(r, Math.min(200, Math.max(0, deadline - Date.now()))));
    }
    await this.writing;
    if (this.queue.length > 0) {
      this.count('dropped', this.queuedRecords);
      this.options.logger.warn({ records: this.queuedRecords }, 'monitoring records not written before shutdown');
      this.queue = [];
      this.queuedRecords = 0;
      this.updateBufferGauge();
    }
  }

  /** Writes one batch now (tests and shutdown); resolves when it is done. */
  async flushOnce(): Promise<void> {
    if (this.writing) return this.writing;
    if (this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.options.batchSize);
    const records = batch.reduce((n, e) => n + 1 + e.stages.length, 0);
    this.queuedRecords -= records;
    this.inFlightRecords = records;
    this.writing = this.write(batch, records).finally(() => {
      this.writing = undefined;
      this.inFlightRecords = 0;
      this.updateBufferGauge();
    });
    return this.writing;
  }

  private async write(batch: Entry[], records: number): Promise<void> {
    const started = performance.now();
    try {
      await writeRecords(this.options.pool, batch);
      this.options.metrics?.sinkWriteSeconds.observe((performance.now() - started) / 1000);
      this.count('written', records);
      this.stats.lastWriteAt = new Date().toISOString();
      this.consecutiveFailures = 0;
    } catch (thrown) {
      const err = toError(thrown);
      this.consecutiveFailures += 1;
      this.stats.lastError = err.message;
      this.stats.lastErrorAt = new Date().toISOString();
      const retry: Entry[] = [];
      for (const entry of batch) {
        entry.attempts += 1;
        const n = 1 + entry.stages.length;
        if (entry.attempts >= this.options.maxAttempts) this.count('failed', n);
        else {
          this.count('retried', n);
          retry.push(entry);
        }
      }
      // Back at the front, in order: they are the oldest records (and no longer in flight).
      this.inFlightRecords = 0;
      this.queue.unshift(...retry);
      this.queuedRecords += retry.reduce((n, e) => n + 1 + e.stages.length, 0);
      this.enforceBound();
      if (this.consecutiveFailures === 1 || this.consecutiveFailures % 20 === 0) {
        this.options.logger.warn({ err, failures: this.consecutiveFailures, buffered: this.queuedRecords }, 'monitoring records could not be written; retrying');
      }
    }
  }

  /** Drops the oldest queued records while everything held (queued and in flight) is past the bound. */
  private enforceBound(): void {
    while (this.queuedRecords + this.inFlightRecords > this.options.maxBufferRecords && this.queue.length > 0) {
      const oldest = this.queue.shift()!;
      const n = 1 + oldest.stages.length;
      this.queuedRecords -= n;
      this.count('dropped', n);
      this.stats.lastDropAt = new Date().toISOString();
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      await this.flushOnce();
    } catch (err) {
      this.options.logger.error({ err: toError(err) }, 'monitoring sink flush crashed');
    }
    const backoff = this.consecutiveFailures > 0 ? Math.min(MAX_BACKOFF_MS, this.options.flushIntervalMs * 2 ** this.consecutiveFailures) : undefined;
    const next = backoff ?? (this.queue.length >= this.options.batchSize ? 0 : this.options.flushIntervalMs);
    this.schedule(next);
  }

  private count(outcome: 'written' | 'retried' | 'dropped' | 'rateLimited' | 'failed', n: number): void {
    if (n <= 0) return;
    this.stats[outcome] += n;
    this.options.metrics?.sinkRecords.inc({ outcome: outcome === 'rateLimited' ? 'rate_limited' : outcome }, n);
  }

  private updateBufferGauge(): void {
    this.options.metrics?.sinkBuffer.set(this.queuedRecords + this.inFlightRecords);
  }
}
