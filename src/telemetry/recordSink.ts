import type { Logger } from 'pino';
import type { Pool } from '../db/makePool.js';
import { toError } from '../domain/errors.js';
import type { Metrics } from './makeMetrics.js';
import { makeRejectedRecordLimiter, type RejectedRecordLimiter } from './makeRejectedRecordLimiter.js';
import type { RequestRecord } from './makeWebhookRecord.js';
import { serializeRecord } from './serializeRecord.js';
import { isRowDataError, writeRecords } from './writeRecords.js';

export interface SinkOptions {
  /** A pool of its own, whose statement timeout bounds every write. */
  pool: Pool;
  /** Each write's bound on our side too (a server that vanished mid-COPY); 2,000 ms unless given. */
  writeTimeoutMs?: number;
  /** Webhooks per multi-row write. */
  batchSize: number;
  flushIntervalMs: number;
  /** Records (request and stage rows) held in memory at most; past it the oldest are dropped and counted. */
  maxBufferRecords: number;
  /** Bytes of buffered rows (their binary COPY tuples) held at most; past it the oldest are dropped and counted. */
  maxBufferBytes: number;
  /** Writes of one webhook's records before they are counted as failed. */
  maxAttempts: number;
  /** Records of rejected webhooks kept per rolling minute; beyond it they are counted, not stored. 0 = no bound. */
  rejectedPerMinute: number;
  /** The same, per client (source address), so that one sender cannot use up the bound of all. 0 = no bound. */
  rejectedPerClientPerMinute: number;
  metrics: Metrics | undefined;
  logger: Logger;
}

interface Entry {
  id: string;
  /** The webhook's row (with its stages) as a tuple of binary COPY data: see serializeRecord. */
  row: Buffer;
  records: number;
  bytes: number;
  attempts: number;
  /** Written, or given up on as a row Postgres refuses. */
  done: boolean;
}

export interface SinkStats {
  bufferedRecords: number;
  maxBufferRecords: number;
  bufferedBytes: number;
  maxBufferBytes: number;
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

const MAX_BACKOFF_MS = 5_000;
/** Clients whose rejected-record counts are tracked; beyond it the least recently seen is forgotten. */
const MAX_TRACKED_CLIENTS = 10_000;
/**
 * Per buffered webhook beyond its JSON: the entry object and its array slot. Checked with the database down:
 * 8,000 rejected 60 KB requests filled the 16 MiB default and the heap ended 18 MB above the same run with the
 * database up. A buffered webhook is about 2.7 KB (accepted, 6 records) or 2 KB (rejected, 3 records).
 */
const ENTRY_OVERHEAD_BYTES = 128;

/** Bytes a row holds in memory: its tuple's bytes (in an arena, see serializeRecord) and its entry. */
function bytesOf(row: Buffer): number {
  return row.length + ENTRY_OVERHEAD_BYTES;
}

/**
 * The Postgres sink for monitoring records. Nothing here blocks or fails a webhook answer: records are
 * buffered in memory (bounded), written in batches by one writer at a time with a timeout on every write,
 * retried with backoff while the database is slow or down, and counted by outcome. A webhook arrives whole
 * (its row with its stages, made from its FinishedWebhook), so nothing waits here for a webhook to finish.
 */
export class RecordSink {
  private queue: Entry[] = [];
  private queuedRecords = 0;
  private queuedBytes = 0;
  /** Records and bytes of the batch being written: still in memory, not yet written. */
  private inFlightRecords = 0;
  private inFlightBytes = 0;
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private consecutiveFailures = 0;
  private stopped = false;
  private readonly rejectedLimiter: RejectedRecordLimiter;
  private readonly stats: Omit<SinkStats, 'bufferedRecords' | 'maxBufferRecords' | 'bufferedBytes' | 'maxBufferBytes'> = {
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
    this.rejectedLimiter = makeRejectedRecordLimiter({
      perMinute: options.rejectedPerMinute,
      perClientPerMinute: options.rejectedPerClientPerMinute,
      maxClients: MAX_TRACKED_CLIENTS,
    });
    this.schedule(options.flushIntervalMs);
    options.metrics?.setSinkBufferSource(() => ({ records: this.queuedRecords + this.inFlightRecords, bytes: this.queuedBytes + this.inFlightBytes }));
  }

  /** Buffers a webhook's row; its records are the row and each of its stages. */
  add(record: RequestRecord, now = Date.now()): void {
    const records = 1 + record.stages.length;
    if (record.status === 'rejected' && !this.rejectedLimiter.allow(record.source_ip ?? '', now)) {
      this.count('rateLimited', records);
      return;
    }
    if (this.stopped) {
      this.count('dropped', records);
      return;
    }
    let row: Buffer;
    try {
      row = serializeRecord(record);
    } catch (thrown) {
      // Cannot happen for a record made by makeWebhookRecord (its values are bounded); if it does, only this one is lost.
      this.giveUp(record.id, records, toError(thrown));
      return;
    }
    const bytes = bytesOf(row);
    this.queue.push({ id: record.id, row, records, bytes, attempts: 0, done: false });
    this.queuedRecords += records;
    this.queuedBytes += bytes;
    this.enforceBound();
    if (this.queue.length >= this.options.batchSize && this.consecutiveFailures === 0) this.schedule(0);
  }

  getStats(): SinkStats {
    return {
      ...this.stats,
      bufferedRecords: this.queuedRecords + this.inFlightRecords,
      maxBufferRecords: this.options.maxBufferRecords,
      bufferedBytes: this.queuedBytes + this.inFlightBytes,
      maxBufferBytes: this.options.maxBufferBytes,
    };
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
      this.queuedBytes = 0;
    }
  }

  /** Writes one batch now (tests and shutdown); resolves when it is done. */
  async flushOnce(): Promise<void> {
    if (this.writing) return this.writing;
    if (this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.options.batchSize);
    const records = sum(batch, (e) => e.records);
    const bytes = sum(batch, (e) => e.bytes);
    this.queuedRecords -= records;
    this.queuedBytes -= bytes;
    this.inFlightRecords = records;
    this.inFlightBytes = bytes;
    this.writing = this.write(batch).finally(() => {
      this.writing = undefined;
      this.inFlightRecords = 0;
      this.inFlightBytes = 0;
    });
    return this.writing;
  }

  private async write(batch: Entry[]): Promise<void> {
    const started = performance.now();
    try {
      await this.writeIsolatingRefusedRows(batch);
      this.options.metrics?.sinkWriteSeconds.observe((performance.now() - started) / 1000);
      this.stats.lastWriteAt = new Date().toISOString();
      this.consecutiveFailures = 0;
    } catch (thrown) {
      const err = toError(thrown);
      this.consecutiveFailures += 1;
      this.stats.lastError = err.message;
      this.stats.lastErrorAt = new Date().toISOString();
      const retry: Entry[] = [];
      for (const entry of batch) {
        if (entry.done) continue;
        entry.attempts += 1;
        if (entry.attempts >= this.options.maxAttempts) this.count('failed', entry.records);
        else {
          this.count('retried', entry.records);
          retry.push(entry);
        }
      }
      // Back at the front, in order: they are the oldest records (and no longer in flight).
      this.inFlightRecords = 0;
      this.inFlightBytes = 0;
      this.queue.unshift(...retry);
      this.queuedRecords += sum(retry, (e) => e.records);
      this.queuedBytes += sum(retry, (e) => e.bytes);
      this.enforceBound();
      if (this.consecutiveFailures === 1 || this.consecutiveFailures % 20 === 0) {
        this.options.logger.warn({ err, failures: this.consecutiveFailures, buffered: this.queuedRecords }, 'monitoring records could not be written; retrying');
      }
    }
  }

  /**
   * Writes the entries in one statement. When Postgres refuses the rows themselves (not the connection), the
   * batch is halved until each refused row is alone: that row is given up (counted as failed), every other row
   * is written. A batch of 500 with one bad row costs about 2 x 9 statements. Any other error is thrown, with
   * the entries already written (or given up) marked done.
   */
  private async writeIsolatingRefusedRows(entries: Entry[]): Promise<void> {
    try {
      await writeRecords(this.options.pool, entries.map((e) => e.row), this.options.writeTimeoutMs ?? 2_000);
    } catch (thrown) {
      if (!isRowDataError(thrown)) throw thrown;
      if (entries.length === 1) {
        entries[0]!.done = true;
        this.giveUp(entries[0]!.id, entries[0]!.records, toError(thrown));
        return;
      }
      const half = Math.ceil(entries.length / 2);
      await this.writeIsolatingRefusedRows(entries.slice(0, half));
      await this.writeIsolatingRefusedRows(entries.slice(half));
      return;
    }
    for (const e of entries) e.done = true;
    this.count('written', sum(entries, (e) => e.records));
  }

  /** A webhook's records that can never be stored: counted as failed, logged with the reason, never retried. */
  private giveUp(id: string, records: number, err: Error): void {
    this.count('failed', records);
    this.stats.lastError = `record ${id} refused: ${err.message}`;
    this.stats.lastErrorAt = new Date().toISOString();
    this.options.logger.warn({ err, webhookId: id, records }, 'monitoring record refused by the database; the other records of its batch are kept');
  }

  /** Drops the oldest queued records while everything held (queued and in flight) is past either bound. */
  private enforceBound(): void {
    while (this.queue.length > 0 && this.isOverBound()) {
      const oldest = this.queue.shift()!;
      this.queuedRecords -= oldest.records;
      this.queuedBytes -= oldest.bytes;
      this.count('dropped', oldest.records);
      this.stats.lastDropAt = new Date().toISOString();
    }
  }

  private isOverBound(): boolean {
    return this.queuedRecords + this.inFlightRecords > this.options.maxBufferRecords || this.queuedBytes + this.inFlightBytes > this.options.maxBufferBytes;
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
}

function sum<T>(items: T[], of: (item: T) => number): number {
  let n = 0;
  for (const item of items) n += of(item);
  return n;
}
