import { hash } from 'node:crypto';
import type { RequestRecord, RequestRow } from './makeWebhookRecord.js';

/**
 * One webhook's outcome as the live stream shows it: the record the sink stores (made by makeWebhookRecord, so
 * secrets are already redacted and text already bounded), without the sender's payload and headers, which
 * would make an event up to 64 KiB; the payload's size and digest say which one it was.
 */
export type StreamEvent = Omit<RequestRow, 'payload' | 'headers' | 'user_agent' | 'stages'>;

export function streamEventOf(record: RequestRecord): StreamEvent {
  const { payload: _payload, headers: _headers, user_agent: _userAgent, stages: _stages, jsonText, ...event } = record;
  // A payload kept whole has no digest of its own (makeStorable): it is that of its JSON, made here for the stream.
  if (event.payload_sha256 === null && record.payload !== null && record.payload !== undefined) {
    event.payload_sha256 = hash('sha256', jsonText?.payload ?? JSON.stringify(record.payload), 'hex');
  }
  return event;
}

export type StreamListener = (event: StreamEvent) => void;

/**
 * Fan-out of finished webhooks to the open live streams (GET /api/monitoring/stream). Nothing is made when no
 * stream is open: the span consumer asks `hasListeners` first.
 */
export class WebhookStream {
  private listeners = new Set<StreamListener>();

  hasListeners(): boolean {
    return this.listeners.size > 0;
  }

  get size(): number {
    return this.listeners.size;
  }

  subscribe(listener: StreamListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  publish(event: StreamEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
