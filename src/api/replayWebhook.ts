import { type Link, TraceFlags } from '@opentelemetry/api';
import { newId } from '../domain/newId.js';
import type { AcceptedAnswer } from '../domain/types.js';
import { WebhookError } from '../domain/errors.js';
import { getWebhookRecord, listStageRecords } from '../monitoring/getWebhookRecord.js';
import { finishWebhookTrace } from '../pipeline/finishWebhookTrace.js';
import { processFields, type PipelineDeps } from '../pipeline/processWebhook.js';
import { ATTR } from '../telemetry/attributes.js';
import type { Metrics } from '../telemetry/makeMetrics.js';
import { extractParent, WebhookTrace, type WebhookTracing } from '../telemetry/webhookTrace.js';

export interface ReplayDeps {
  pipeline: PipelineDeps;
  webhookTracing: WebhookTracing;
  metrics: Metrics | undefined;
  /**
   * The edge's reading of a failure: the error it answers with and that answer's HTTP status. Passed in by
   * http/makeServer, because statuses (and Fastify's own errors) are known to the HTTP edge only.
   */
  answerFor: (thrown: unknown) => { error: WebhookError; httpStatus: number };
}

/**
 * Re-runs a stored webhook's payload through the pipeline as a new webhook (its own id, trace and record)
 * linked to the original. Only a webhook that passed authentication (its record's signature_valid) is replayed:
 * the stored payload has no secret (it was removed before storage), so the record is the only proof that its
 * sender knew it; the admin token authorises the replay. Unless `force`, a replay of a webhook that stored a signal
 * is answered as that signal's duplicate, and any other goes through dedupe.
 */
export async function replayWebhook(
  deps: ReplayDeps,
  originalId: string,
  request: { force: boolean; clientIp: string; headers: Record<string, string | string[] | undefined> },
): Promise<AcceptedAnswer & { replayOf: string }> {
  const original = await getWebhookRecord(deps.pipeline.pool, originalId);
  if (!original) throw new WebhookError('WH_ERR_NOT_FOUND', `No webhook ${originalId}.`);
  // The admin token authorises a replay, not the payload: a payload only becomes a signal if its sender proved the
  // secret. Without this, anyone could store an order with a wrong secret (401) and wait for a replay with force.
  if (original.signature_valid !== true) {
    const refusal = original.error_code ? ` (it was refused with ${original.error_code})` : '';
    throw new WebhookError(
      'WH_ERR_REPLAY_NOT_AUTHENTICATED',
      `Webhook ${originalId} did not pass authentication${refusal}: only authenticated webhooks can be replayed, with or without force. Ask the sender to send it again with the right secret.`,
    );
  }
  const payload = original.payload;
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload) || 'raw' in payload) {
    throw new WebhookError('WH_ERR_CONFLICT', 'This webhook has no parsed payload to replay (its body could not be read).');
  }
  if (original.truncation?.payload) {
    throw new WebhookError('WH_ERR_CONFLICT', 'This webhook\'s payload was cut before it was stored (see truncation.payload): replaying it would not replay what was sent.');
  }
  const stages = await listStageRecords(deps.pipeline.pool, originalId);
  const links: Link[] =
    original.trace_id && stages[0]?.span_id
      ? [{ context: { traceId: original.trace_id, spanId: stages[0].span_id, traceFlags: TraceFlags.SAMPLED } }]
      : [];
  const webhookId = newId();
  const startMs = performance.timeOrigin + performance.now();
  const trace = new WebhookTrace(deps.webhookTracing, {
    name: 'POST /api/webhooks/:id/replay',
    webhookId,
    parent: extractParent(request.headers),
    startTime: startMs,
    links,
    attributes: {
      [ATTR.httpMethod]: 'POST',
      [ATTR.httpRoute]: '/api/webhooks/:id/replay',
      [ATTR.clientAddress]: request.clientIp,
      [ATTR.replayOf]: originalId,
      [ATTR.authScheme]: 'admin-replay',
      // Authenticated twice over: the original's sender (checked above) and the admin token. A replay can be replayed.
      [ATTR.authValid]: true,
      [ATTR.payloadSize]: Number(original.payload_size) || 0,
    },
  });
  trace.begin('received', startMs);
  deps.metrics?.inFlight.inc();
  const extras = { payload };
  try {
    const answer = await processFields(deps.pipeline, {
      webhookId,
      receivedAt: new Date(startMs),
      fields: payload as Record<string, unknown>,
      trace,
      bypassDedupe: request.force,
      // The original stored a signal: without force, the replay is its duplicate even once the dedupe window has
      // passed, or when the original's dedupe key came from a signature the replay does not carry (Standard Webhooks'
      // webhook-id): either way the replay would have become a second order.
      duplicateOf: request.force ? undefined : (original.signal_id ?? undefined),
    });
    finishWebhookTrace(trace, { httpStatus: 200, answer, headers: request.headers, extras });
    return { ...answer, replayOf: originalId };
  } catch (thrown) {
    const { error, httpStatus } = deps.answerFor(thrown);
    finishWebhookTrace(trace, { httpStatus, error, headers: request.headers, extras });
    throw Object.assign(error, { webhookId });
  } finally {
    deps.metrics?.inFlight.dec();
  }
}
