import type http from 'node:http';
import { toError } from '../domain/errors.js';
import { encodeOtlpSpans } from './encodeOtlpSpans.js';
import type { FinishedWebhook } from './finishedWebhook.js';
import type { ExportHealth } from './makeCountingExporter.js';
import { OtlpEnvelope, type SpanOrigin } from './otlpEnvelope.js';
import { makeOtlpAgent, postOtlp } from './postOtlp.js';
import { ProtobufWriter } from './protobufWriter.js';

export interface OtlpWebhookExporterOptions {
  /** The OTLP/HTTP traces URL (…/v1/traces). */
  url: string;
  /** Sent with every request (OTEL_EXPORTER_OTLP_HEADERS: a backend's API key, say). */
  headers?: Record<string, string>;
  /** The resource and scope of the spans (the SDK's, see probeSpanOrigin). */
  origin: SpanOrigin;
  /** Spans that may wait to be sent (OTEL_BSP_MAX_QUEUE_SIZE); a webhook whose spans do not fit is dropped whole. */
  maxQueueSpans: number;
  /** Shared with the SDK exporter of the other spans: one view of export for the health check. */
  health: ExportHealth;
  onDropped: (spans: number) => void;
  onFailed: (spans: number) => void;
  /** A batch is sent once it holds this many spans… (default: 4096, at most maxQueueSpans) */
  maxBatchSpans?: number;
  /** …or this many bytes (default 1 MiB)… */
  maxBatchBytes?: number;
  /** …or this long after the last send was started (default 1 s). */
  intervalMs?: number;
  /** One request's time limit (default 10 s, the OTLP exporters' default); also the longest wait for resource detection. */
  timeoutMs?: number;
}

interface Batch {
  writer: ProtobufWriter;
  spans: number;
}

/**
 * Exports finished webhooks' traces (the root span and its stage spans) over OTLP/HTTP protobuf, encoded straight
 * from the compact result into the bytes of the request (encodeOtlpSpans): no span objects, no batch processor,
 * no serializer pass. On the request path a webhook costs its encoding, appended to the open batch; batches are
 * POSTed off it, by a timer or once full, one request at a time over one keep-alive connection.
 *
 * Bounded like the SDK's batch processor it replaces for webhooks: at most `maxQueueSpans` spans wait (the batch
 * in flight not counted), a webhook that does not fit is dropped whole and counted (`onDropped`), a failed or
 * timed-out request is counted (`onFailed`, `health`) and its batch dropped, not retried. A dead or slow
 * collector costs the request path nothing but the encoding.
 */
export class OtlpWebhookExporter {
  private readonly url: URL;
  private readonly agent: http.Agent;
  private readonly maxBatchSpans: number;
  private readonly maxBatchBytes: number;
  private readonly timeoutMs: number;
  private readonly timer: NodeJS.Timeout;
  private current: Batch | undefined;
  private readonly sealed: Batch[] = [];
  private queuedSpans = 0;
  /** Writers of delivered batches, written again: a new 1 MiB buffer per batch made V8 collect garbage (2-3 µs a webhook). */
  private readonly spare: ProtobufWriter[] = [];
  private sending: Promise<void> | undefined;
  private sendScheduled = false;
  private closed = false;
  private abandoned = false;
  private envelope: Promise<OtlpEnvelope> | undefined;

  constructor(private readonly options: OtlpWebhookExporterOptions) {
    this.url = new URL(options.url);
    this.agent = makeOtlpAgent(this.url);
    this.maxBatchSpans = Math.max(1, Math.min(options.maxBatchSpans ?? 4096, options.maxQueueSpans));
    this.maxBatchBytes = options.maxBatchBytes ?? 1024 * 1024;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.timer = setInterval(() => {
      this.seal();
      this.pump();
    }, options.intervalMs ?? 1000);
    this.timer.unref();
  }

  /** A webhook consumer: encodes an exported trace into the open batch (a trace not exported costs nothing). */
  add(w: FinishedWebhook): void {
    if (!w.exported || this.closed) return;
    const spans = 1 + w.stages.length;
    if (this.queuedSpans + spans > this.options.maxQueueSpans) {
      this.options.onDropped(spans);
      return;
    }
    let batch = this.current;
    if (batch && batch.spans + spans > this.maxBatchSpans) {
      this.seal();
      batch = undefined;
    }
    batch ??= this.current = { writer: this.spare.pop() ?? new ProtobufWriter(64 * 1024), spans: 0 };
    const mark = batch.writer.pos;
    try {
      encodeOtlpSpans(w, batch.writer);
    } catch (err) {
      // Nothing half-written stays in the batch: the other webhooks in it still export.
      batch.writer.pos = mark;
      throw err;
    }
    batch.spans += spans;
    this.queuedSpans += spans;
    if (batch.spans >= this.maxBatchSpans || batch.writer.pos >= this.maxBatchBytes) {
      this.seal();
      this.scheduleSend();
    }
  }

  /** Sends everything queued (resolves when the last request has ended, delivered or failed). */
  async flush(): Promise<void> {
    this.seal();
    for (;;) {
      this.pump();
      if (!this.sending) return;
      await this.sending;
    }
  }

  /** Stops taking webhooks and sends what is queued within `timeoutMs`; what is left then is given up. */
  async stop(timeoutMs: number): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.flush(), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    this.abandoned = true;
    this.agent.destroy();
  }

  private seal(): void {
    const batch = this.current;
    if (!batch) return;
    this.current = undefined;
    if (batch.spans > 0) this.sealed.push(batch);
  }

  /** Sends from a later turn of the event loop: never on the request path. */
  private scheduleSend(): void {
    if (this.sendScheduled) return;
    this.sendScheduled = true;
    setImmediate(() => {
      this.sendScheduled = false;
      this.pump();
    });
  }

  /** Starts the next request when none is in flight. */
  private pump(): void {
    if (this.sending || this.abandoned) return;
    const batch = this.sealed.shift();
    if (!batch) return;
    this.queuedSpans -= batch.spans;
    this.sending = this.send(batch).finally(() => {
      this.sending = undefined;
      this.pump();
    });
  }

  private async send(batch: Batch): Promise<void> {
    const health = this.options.health;
    try {
      const envelope = await this.envelopeFor();
      if (this.abandoned) throw new Error('the exporter stopped before this batch could be sent');
      const body = batch.writer.bytes();
      const { head, tail } = envelope.wrap(body.length);
      await postOtlp(this.url, this.agent, this.options.headers ?? {}, [head, body, tail], this.timeoutMs);
      health.exported += batch.spans;
      // Answered: the receiver has read the whole body, so its buffer is free. (After a failure the socket may
      // still hold it: that writer is left to the garbage collector.)
      if (this.spare.length < 2) {
        batch.writer.pos = 0;
        this.spare.push(batch.writer);
      }
    } catch (err) {
      health.failed += batch.spans;
      health.lastError = toError(err).message;
      health.lastErrorAt = new Date().toISOString();
      this.options.onFailed(batch.spans);
    }
  }

  /** The envelope for the spans' resource and scope, made once (once the resource's attributes are settled). */
  private envelopeFor(): Promise<OtlpEnvelope> {
    if (this.envelope) return this.envelope;
    const envelope = OtlpEnvelope.settled(this.options.origin, this.timeoutMs);
    this.envelope = envelope;
    // A failure is not kept: the next batch tries again.
    envelope.catch(() => {
      if (this.envelope === envelope) this.envelope = undefined;
    });
    return envelope;
  }
}
