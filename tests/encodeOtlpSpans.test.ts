import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { type Link, TraceFlags } from '@opentelemetry/api';
import { millisToHrTime, TraceState } from '@opentelemetry/core';
import fc from 'fast-check';
// The SDK's own OTLP serializer (what the http/protobuf OTLPTraceExporter sends), as the reference.
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { encodeOtlpSpans } from '../src/telemetry/encodeOtlpSpans.js';
import type { FinishedWebhook } from '../src/telemetry/finishedWebhook.js';
import { makeWebhookSpans } from '../src/telemetry/makeWebhookSpans.js';
import { OtlpEnvelope } from '../src/telemetry/otlpEnvelope.js';
import { ProtobufWriter } from '../src/telemetry/protobufWriter.js';
import { extractParent, WebhookTrace } from '../src/telemetry/webhookTrace.js';
import { decodeOtlpTraceRequest } from './support/decodeOtlpTraceRequest.js';
import { finishTestWebhook, sdkRootSpanOf, TEST_ORIGIN, TEST_TRACING } from './support/finishTestWebhook.js';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
/** Epoch ms to OTLP nanoseconds as the SDK rounds them: whole seconds, then the rest to the nearest nanosecond. */
const nanos = (ms: number) => (BigInt(Math.trunc(ms / 1000)) * 1_000_000_000n + BigInt(Math.round((ms % 1000) * 1e6))).toString();
const LONG = 'y'.repeat(20_000); // a 3-byte length, in a span longer than 16 KiB

/** Our encoding of `webhooks` as one export request. */
function ours(webhooks: FinishedWebhook[]): Buffer {
  const spans = new ProtobufWriter(256); // small: growing is exercised too
  for (const w of webhooks) encodeOtlpSpans(w, spans);
  const { head, tail } = new OtlpEnvelope(TEST_ORIGIN).wrap(spans.pos);
  return Buffer.concat([head, spans.bytes(), tail]);
}

/**
 * What the SDK sent for the same webhooks before: the root span as an SDK span (made by the SDK's tracer with the
 * webhook's ids) and the stage spans as makeStageSpans made them, serialized by the SDK.
 */
function sdk(webhooks: FinishedWebhook[]): Uint8Array {
  const bytes = ProtobufTraceSerializer.serializeRequest(
    webhooks.flatMap((w) => {
      const root = sdkRootSpanOf(w);
      // The SDK groups spans by their resource and scope objects: the stages get the SDK span's.
      return [root, ...makeWebhookSpans(w, { resource: root.resource, scope: root.instrumentationScope }).slice(1)];
    }),
  );
  assert.ok(bytes);
  return bytes;
}

/** The http/json path's span objects (makeWebhookSpans), serialized by the SDK (in protobuf, to compare). */
function jsonPath(webhooks: FinishedWebhook[]): Uint8Array {
  const bytes = ProtobufTraceSerializer.serializeRequest(webhooks.flatMap((w) => makeWebhookSpans(w, TEST_ORIGIN)));
  assert.ok(bytes);
  return bytes;
}

function webhook(options: { outcome: 'accepted' | 'failed' | 'rejected'; headers?: Record<string, string>; links?: Link[]; startMs?: number }): FinishedWebhook {
  return finishTestWebhook(() => {
    const startMs = options.startMs ?? performance.timeOrigin + performance.now();
    const trace = new WebhookTrace(TEST_TRACING, {
      name: 'POST /api/webhooks/tradingview',
      webhookId: `0192f000-0000-7000-8000-${hex(6)}`,
      parent: extractParent(options.headers ?? {}),
      startTime: startMs,
      links: options.links,
      attributes: { 'http.request.method': 'POST', 'client.address': '203.0.113.9', 'user_agent.original': 'Zürich ✓ 日本 agent', 'webhook.payload_size': 131 },
    });
    trace.begin('received', startMs);
    trace.begin('enriching', startMs + 0.2504);
    trace.stageAttributes({ 'trading.ticker': 'BTCUSDT', 'webhook.delivery_lag_ms': 812.375, 'test.negative': -7, 'test.big': 2 ** 40, 'test.small': -(2 ** 40) });
    trace.attributes({ 'trading.ticker': 'BTCUSDT', 'trading.action': 'buy', 'test.long': LONG, 'webhook.auth_valid': true });
    trace.begin('deciding', startMs + 0.9999);
    trace.stageAttributes({ 'trading.decision': 'accept', 'test.flag': false, 'test.unicode': 'é'.repeat(70) });
    if (options.outcome === 'accepted') {
      trace.begin('executing', startMs + 1.5);
      trace.finish({ status: 'success', httpStatus: 200, outcome: 'accepted', rejection: false, extras: {} });
    } else if (options.outcome === 'failed') {
      trace.attributes({ 'webhook.error_message': 'database unavailable' });
      trace.finish({ status: 'failed', httpStatus: 503, errorCode: 'WH_ERR_UNAVAILABLE', errorMessage: 'database unavailable', rejection: false, extras: {} });
    } else {
      trace.attributes({ 'webhook.auth_valid': false });
      trace.finish({ status: 'rejected', httpStatus: 401, errorCode: 'WH_ERR_AUTH_INVALID', errorMessage: 'wrong secret', rejection: true, extras: {} });
    }
    return trace;
  });
}

describe('encodeOtlpSpans: a finished webhook straight to OTLP protobuf, as the SDK encoded it', () => {
  it('the SDK reference is a real SDK span with the webhook\'s ids', () => {
    const w = webhooks[1]!;
    const root = sdkRootSpanOf(w);
    assert.deepEqual([root.spanContext().traceId, root.spanContext().spanId, root.parentSpanContext?.spanId], [w.traceId, w.spanId, w.parent!.spanId]);
  });

  const callerTraceId = hex(16);
  const callerSpanId = hex(8);
  const webhooks = [
    webhook({ outcome: 'accepted' }),
    webhook({
      outcome: 'failed',
      headers: { traceparent: `00-${callerTraceId}-${callerSpanId}-00`, tracestate: 'vendor=abc,other=1' },
      links: [
        { context: { traceId: hex(16), spanId: hex(8), traceFlags: TraceFlags.SAMPLED } },
        { context: { traceId: hex(16), spanId: hex(8), traceFlags: TraceFlags.NONE, isRemote: true, traceState: new TraceState('k=v') }, attributes: { 'link.kind': 'replay', 'link.n': 2 } },
      ],
    }),
    webhook({ outcome: 'rejected', startMs: 1_760_000_000_999.75 }),
  ];

  it('decodes to exactly what the SDK serializer wrote for the same spans: resource, scope and every span field', () => {
    const mine = decodeOtlpTraceRequest(ours(webhooks));
    const reference = decodeOtlpTraceRequest(sdk(webhooks));
    assert.deepEqual(mine, reference);
    // The http/json path's spans are the same spans.
    assert.deepEqual(decodeOtlpTraceRequest(jsonPath(webhooks)), reference);
    assert.equal(mine.resourceSpans[0]!.scopeSpans[0]!.spans.length, webhooks.reduce((n, w) => n + 1 + w.stages.length, 0));
  });

  it('has the names, kinds, ids, parents, times, statuses and attributes of the compact result', () => {
    const { resourceSpans } = decodeOtlpTraceRequest(ours(webhooks));
    assert.equal(resourceSpans.length, 1);
    const [rs] = resourceSpans;
    assert.deepEqual(rs!.resource.attributes.find((a) => a.key === 'process.command_args')?.value, {
      arrayValue: [{ stringValue: 'node' }, { stringValue: '--import' }, { stringValue: 'x.js' }],
    });
    assert.equal(rs!.schemaUrl, 'https://opentelemetry.io/schemas/1.30.0');
    const { scope, spans } = rs!.scopeSpans[0]!;
    assert.deepEqual({ name: scope.name, version: scope.version }, { name: 'tv-webhook', version: '1.2.3' });
    let i = 0;
    for (const w of webhooks) {
      const root = spans[i++]!;
      assert.equal(root.name, 'POST /api/webhooks/tradingview');
      assert.equal(root.kind, 2, 'SERVER');
      assert.equal(root.traceId, w.traceId);
      assert.equal(root.spanId, w.spanId);
      assert.equal(root.startTimeUnixNano, nanos(w.startMs));
      assert.equal(root.endTimeUnixNano, nanos(w.endMs));
      const attribute = (key: string) => root.attributes.find((a) => a.key === key)?.value;
      assert.deepEqual(attribute('webhook.record'), { stringValue: 'request' });
      assert.deepEqual(attribute('webhook.id'), { stringValue: w.webhookId });
      assert.deepEqual(attribute('test.long'), { stringValue: LONG });
      assert.deepEqual(attribute('http.response.status_code'), { intValue: String(w.httpStatus) });
      assert.deepEqual(root.status, w.status === 'failed' ? { code: 2, message: 'database unavailable' } : { code: 0, message: '' });
      for (const s of w.stages) {
        const stage = spans[i++]!;
        assert.equal(stage.name, s.stage);
        assert.equal(stage.kind, 1, 'INTERNAL');
        assert.equal(stage.spanId, s.spanId);
        assert.equal(stage.parentSpanId, w.spanId);
        assert.equal(stage.traceId, w.traceId);
        assert.equal(stage.startTimeUnixNano, nanos(s.startMs));
        assert.equal(stage.endTimeUnixNano, nanos(s.endMs));
        assert.equal(stage.status.code, s.failed ? 2 : 0);
        assert.deepEqual(stage.attributes.find((a) => a.key === 'webhook.record')?.value, { stringValue: 'stage' });
        // Encoded once (per webhook, per stage name) and copied: each stage still names its own webhook and stage.
        assert.deepEqual(stage.attributes.find((a) => a.key === 'webhook.id')?.value, { stringValue: w.webhookId });
        assert.deepEqual(stage.attributes.find((a) => a.key === 'webhook.stage')?.value, { stringValue: s.stage });
      }
    }
    const [accepted, failed, rejected] = webhooks;
    // The accepted webhook: its own trace, no parent; one stage's attributes of each kind.
    assert.equal(spans[0]!.parentSpanId, '');
    const enriching = spans.find((s) => s.name === 'enriching' && s.traceId === accepted!.traceId)!;
    assert.deepEqual(
      Object.fromEntries(enriching.attributes.map((a) => [a.key, a.value])),
      {
        'test.big': { intValue: String(2 ** 40) },
        'test.negative': { intValue: '-7' },
        'test.small': { intValue: String(-(2 ** 40)) },
        'trading.ticker': { stringValue: 'BTCUSDT' },
        'webhook.delivery_lag_ms': { doubleValue: 812.375 },
        'webhook.id': { stringValue: accepted!.webhookId },
        'webhook.record': { stringValue: 'stage' },
        'webhook.stage': { stringValue: 'enriching' },
      },
    );
    // The failed one joined the caller's trace: parent, trace state and remote flag; its links; failed stages.
    const failedRoot = spans.find((s) => s.spanId === failed!.spanId)!;
    assert.equal(failedRoot.traceId, callerTraceId);
    assert.equal(failedRoot.parentSpanId, callerSpanId);
    assert.equal(failedRoot.traceState, 'vendor=abc,other=1');
    assert.equal(failedRoot.flags, 0x301, 'sampled (our decision, not the caller\'s 00), parent known to be remote');
    assert.deepEqual(failedRoot.links.map((l) => [l.traceId, l.spanId, l.traceState, l.flags]), failed!.links!.map((l) => [l.context.traceId, l.context.spanId, l.context.traceState?.serialize() ?? '', l.context.isRemote ? 0x300 | l.context.traceFlags : 0x100 | l.context.traceFlags]));
    const deciding = spans.find((s) => s.name === 'deciding' && s.traceId === callerTraceId)!;
    assert.deepEqual(deciding.status, { code: 2, message: 'database unavailable' });
    assert.deepEqual(deciding.attributes.find((a) => a.key === 'error.type')?.value, { stringValue: 'WH_ERR_UNAVAILABLE' });
    // The rejected one: stages failed, the root's status unset (a rejection is the caller's fault, not ours).
    const rejectedRoot = spans.find((s) => s.spanId === rejected!.spanId)!;
    assert.equal(rejectedRoot.status.code, 0);
    assert.equal(rejectedRoot.startTimeUnixNano, '1760000000999750000');
    assert.deepEqual(spans.find((s) => s.name === 'failed' && s.traceId === rejected!.traceId)!.status, { code: 2, message: 'wrong secret' });
  });

  it('writes any time as the SDK rounds it (millisToHrTime), to the nanosecond', () => {
    const w = webhooks[0]!;
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 2 ** 42, noNaN: true }), { minLength: 2, maxLength: 8 }), (times) => {
        const stages = times.map((ms, i) => ({ ...w.stages[0]!, spanId: w.stages[i % w.stages.length]!.spanId, startMs: ms, endMs: ms + i }));
        const spans = decodeOtlpTraceRequest(ours([{ ...w, stages }])).resourceSpans[0]!.scopeSpans[0]!.spans.slice(1);
        const hr = (ms: number) => {
          const [s, ns] = millisToHrTime(ms);
          return (BigInt(s) * 1_000_000_000n + BigInt(ns)).toString();
        };
        assert.deepEqual(spans.map((s) => [s.startTimeUnixNano, s.endTimeUnixNano]), stages.map((s) => [hr(s.startMs), hr(s.endMs)]));
      }),
      { numRuns: 2000 },
    );
  });

  it('the comparison sees a difference: one stage 1 µs later is not what the SDK wrote', () => {
    const w = webhooks[0]!;
    const moved = { ...w, stages: w.stages.map((s, i) => (i === 2 ? { ...s, startMs: s.startMs + 0.001 } : s)) };
    assert.notDeepEqual(decodeOtlpTraceRequest(ours([moved])), decodeOtlpTraceRequest(sdk([w])));
  });

  it('refuses an id that is not hex rather than writing something else', () => {
    const broken = { ...webhooks[0]!, traceId: 'not-hex' };
    assert.throws(() => encodeOtlpSpans(broken, new ProtobufWriter(64)), /not a hex id/);
  });
});
