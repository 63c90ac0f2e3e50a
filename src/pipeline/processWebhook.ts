import { newId } from '../domain/newId.js';
import type { Pool } from '../db/makePool.js';
import type { AcceptedAnswer } from '../domain/types.js';
import { ATTR } from '../telemetry/attributes.js';
import type { RecordExtras } from '../telemetry/recordExtras.js';
import type { WebhookTrace } from '../telemetry/webhookTrace.js';
import type { Authenticator, SignedMessage } from './authenticate.js';
import { decide, type Policy } from './decide.js';
import { enrich } from './enrich.js';
import { makeDedupeKey } from './makeDedupeKey.js';
import { parseBody, type BodyFields } from './parseBody.js';
import { readBody } from './readBody.js';
import { digestRedactedText, redactRawText } from './redactRawText.js';
import { redactSecrets } from './redactSecrets.js';
import type { SecretScrubber } from './makeSecretScrubber.js';
import { resolveAliases } from './resolveAliases.js';
import type { LoadShedder } from './makeLoadShedder.js';
import type { SignalWriter } from './makeSignalWriter.js';
import { storeSignal } from './storeSignal.js';
import { type InputLimits, validateAlert } from './validateAlert.js';

export interface WebhookInput {
  webhookId: string;
  receivedAt: Date;
  contentType: string | undefined;
  raw: Buffer;
  headers: Record<string, string | string[] | undefined>;
  queryToken: string | string[] | undefined;
}

export interface PipelineDeps {
  pool: Pool;
  /** Writes signals and their jobs in batches (group commit). */
  signalWriter: SignalWriter;
  authenticate: Authenticator;
  /** Removes the service's own secret values from what is kept of a body (see makeSecretScrubber). */
  scrubSecrets: SecretScrubber;
  policy: Policy;
  inputLimits: InputLimits;
  dedupeWindowSeconds: number;
  executionMaxAttempts: number;
  /** Admission control at the edge: a quick 503 while the service is too far behind (makeLoadShedder). */
  loadShedder: LoadShedder;
}

/** What a webhook carries through the pipeline besides its input: its trace and what its record keeps. */
export interface WebhookContext {
  trace: WebhookTrace;
  extras: RecordExtras;
}

/**
 * The `received` stage after rate limit and IP checks (which the route runs before the body is read):
 * read, parse, authenticate; then the rest of the pipeline. Throws a WebhookError for every refusal.
 */
export async function processWebhook(deps: PipelineDeps, input: WebhookInput, ctx: WebhookContext): Promise<AcceptedAnswer> {
  ctx.trace.attributes({ [ATTR.payloadSize]: input.raw.length });
  const body = readBody(input.contentType, input.raw);
  let fields: BodyFields;
  try {
    fields = parseBody(body);
  } catch (err) {
    const text = deps.scrubSecrets(body.text);
    ctx.extras.payload = redactRawText(text);
    ctx.extras.payloadSha256 = digestRedactedText(text);
    throw err;
  }
  // Only authentication sees the secrets: the record (whether or not authentication succeeds) and the signal
  // get the fields without any secret-looking key, at any depth.
  const clean = redactSecrets(fields, deps.scrubSecrets);
  ctx.extras.payload = clean;
  const auth = deps.authenticate({ raw: input.raw, headers: input.headers, fields, queryToken: input.queryToken });
  ctx.trace.attributes({ [ATTR.authScheme]: auth.scheme, [ATTR.authValid]: true });
  return processFields(deps, { webhookId: input.webhookId, receivedAt: input.receivedAt, fields: clean, trace: ctx.trace, signed: auth.signed });
}

/**
 * From authenticated fields to a stored signal: validate (end of `received`), `enriching`, `deciding`,
 * `executing` (persist and enqueue). Replays of stored webhooks enter here.
 */
export async function processFields(
  deps: PipelineDeps,
  input: {
    webhookId: string;
    receivedAt: Date;
    fields: BodyFields;
    trace: WebhookTrace;
    bypassDedupe?: boolean;
    signed?: SignedMessage;
    /** A replay (without force) of a webhook that stored this signal: a duplicate of it, however long ago. */
    duplicateOf?: string;
  },
): Promise<AcceptedAnswer> {
  const { trace } = input;
  const alert = validateAlert(input.fields, resolveAliases(input.fields), deps.inputLimits);

  trace.begin('enriching');
  const signal = enrich(alert);
  trace.attributes({
    [ATTR.ticker]: signal.ticker,
    [ATTR.exchange]: signal.exchange ?? undefined,
    [ATTR.action]: signal.action,
    [ATTR.strategy]: signal.strategy ?? undefined,
    [ATTR.deliveryLagMs]: signal.alertTime ? input.receivedAt.getTime() - signal.alertTime.getTime() : undefined,
  });

  trace.begin('deciding');
  const decision = decide(signal, deps.policy, input.receivedAt);
  const dedupe = input.bypassDedupe
    ? { key: `replay:${input.webhookId}`, until: null }
    : makeDedupeKey(signal, input.receivedAt, {
        windowSeconds: deps.dedupeWindowSeconds,
        maxAlertAgeSeconds: deps.policy.maxAlertAgeSeconds,
        signed: input.signed,
      });
  trace.stageAttributes({ [ATTR.decision]: decision.kind, [ATTR.declineReason]: decision.kind === 'decline' ? decision.reason : undefined });

  trace.begin('executing');
  const answer: AcceptedAnswer = input.duplicateOf !== undefined
    ? { status: 'duplicate', webhookId: input.webhookId, signalId: input.duplicateOf }
    : await storeSignal(deps.pool, deps.signalWriter, {
    id: newId(),
    webhookId: input.webhookId,
    signal,
    dedupe,
    status: decision.kind === 'accept' ? 'queued' : 'declined',
    declineReason: decision.kind === 'decline' ? decision.reason : null,
    traceId: trace.traceId,
    receivedAt: input.receivedAt,
    traceparent: trace.traceparent(),
    maxAttempts: deps.executionMaxAttempts,
  });
  trace.stageAttributes({ [ATTR.signalId]: answer.signalId, [ATTR.outcome]: answer.status });
  trace.attributes({ [ATTR.signalId]: answer.signalId, [ATTR.declineReason]: answer.reason });
  return answer;
}
