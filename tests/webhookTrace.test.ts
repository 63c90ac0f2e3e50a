import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { ExportSampler } from '../src/telemetry/exportSampler.js';
import type { FinishedWebhook } from '../src/telemetry/finishedWebhook.js';
import { getWebhookHub } from '../src/telemetry/webhookHub.js';
import { extractParent, NOT_TRACED, WebhookTrace, type WebhookTracing } from '../src/telemetry/webhookTrace.js';
import { finishWebhookTrace } from '../src/pipeline/finishWebhookTrace.js';
import type { RecordExtras } from '../src/telemetry/recordExtras.js';
import { finishTestWebhook } from './support/finishTestWebhook.js';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

function traced(tracing: WebhookTracing, headers: Record<string, string> = {}) {
  let trace!: WebhookTrace;
  const w = finishTestWebhook(() => {
    trace = new WebhookTrace(tracing, { name: 'POST /api/webhooks/tradingview', webhookId: crypto.randomUUID(), parent: extractParent(headers), startTime: Date.now(), attributes: {} });
    trace.begin('received');
    trace.finish({ status: 'success', httpStatus: 200, rejection: false, extras: {} });
    return trace;
  });
  return { trace, w };
}

function sampler(ratio: number): ExportSampler {
  const s = new ExportSampler();
  s.setRatio(ratio);
  return s;
}

/** A webhook's trace without an SDK span: its ids, its parent, its export decision and the traceparent for its job. */
describe('WebhookTrace: ids, parent and export decision of its own', () => {
  it('a new trace: random valid ids, the traceparent for the worker names the root span and our decision', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const { trace, w } = traced({ recording: true, sampler: sampler(1) });
      assert.match(w.traceId, /^[0-9a-f]{32}$/);
      assert.notEqual(w.traceId, '0'.repeat(32));
      assert.match(w.spanId, /^[0-9a-f]{16}$/);
      assert.equal(trace.traceId, w.traceId);
      assert.equal(trace.traceparent(), `00-${w.traceId}-${w.spanId}-01`);
      assert.equal(w.exported, true);
      assert.equal(w.parent, undefined);
      seen.add(w.traceId);
    }
    assert.equal(seen.size, 300, 'every trace id differs');
  });

  it('joins a caller\'s traceparent (trace id, parent, trace state) but never takes its sampled flag', () => {
    for (const [flag, ratio, exported] of [['00', 1, true], ['01', 0, false]] as const) {
      const traceId = hex(16);
      const spanId = hex(8);
      const { trace, w } = traced({ recording: true, sampler: sampler(ratio) }, { traceparent: `00-${traceId}-${spanId}-${flag}`, tracestate: 'k=v' });
      assert.equal(w.traceId, traceId);
      assert.deepEqual([w.parent?.spanId, w.parent?.isRemote, w.parent?.traceState?.serialize()], [spanId, true, 'k=v']);
      assert.notEqual(w.spanId, spanId);
      assert.equal(w.exported, exported);
      assert.equal(trace.traceparent(), `00-${traceId}-${w.spanId}-${exported ? '01' : '00'}`);
    }
  });

  it('without traceparent a new trace of our own, whatever else the request carries (tracestate alone is ignored)', () => {
    for (const headers of [{}, { tracestate: 'k=v' }, { traceparent: 'not a traceparent' }] as Array<Record<string, string>>) {
      const { trace, w } = traced({ recording: true, sampler: sampler(1) }, headers);
      assert.equal(w.parent, undefined, JSON.stringify(headers));
      assert.equal(w.exported, true);
      assert.equal(trace.traceparent(), `00-${w.traceId}-${w.spanId}-01`);
      assert.deepEqual([w.attributes['webhook.id'], w.attributes['webhook.record']], [trace.webhookId, 'request']);
    }
  });

  it('traceidratio decides by our trace id: about the ratio, and the same decision for the same id', () => {
    const s = sampler(0.25);
    const webhooks = Array.from({ length: 2000 }, () => traced({ recording: true, sampler: s }).w);
    const exported = webhooks.filter((w) => w.exported).length;
    assert.ok(exported > 350 && exported < 650, `${exported} of 2000`);
    for (const w of webhooks) assert.equal(s.exports(ROOT_CONTEXT, w.traceId), w.exported);
  });

  it('monitoring off: no ids, no traceparent, nothing handed over', () => {
    const seen: FinishedWebhook[] = [];
    const detach = getWebhookHub().attach((w) => void seen.push(w), () => undefined);
    try {
      const trace = new WebhookTrace(NOT_TRACED, { name: 'x', webhookId: 'w', parent: extractParent({ traceparent: `00-${hex(16)}-${hex(8)}-01` }), startTime: Date.now(), attributes: {} });
      trace.begin('received');
      // The route ends a webhook through finishWebhookTrace: unmonitored, not even the record's copy of the headers is made.
      const extras: RecordExtras = {};
      finishWebhookTrace(trace, { httpStatus: 200, headers: { 'content-type': 'application/json', 'x-signature': 'sig' }, extras });
      assert.equal(trace.isRecording, false);
      assert.equal(extras.headers, undefined);
      assert.equal(trace.traceId, null);
      assert.equal(trace.traceparent(), null);
      assert.deepEqual(seen, []);
    } finally {
      detach();
    }
  });
});
