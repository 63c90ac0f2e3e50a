import { uuidv7 } from 'uuidv7';
import type { Pool } from '../db/makePool.js';
import type { AcceptedAnswer } from '../domain/types.js';
import type { Authenticator } from './authenticate.js';
import { decide, type Policy } from './decide.js';
import { enrich } from './enrich.js';
import { makeDedupeKey } from './makeDedupeKey.js';
import { parseBody } from './parseBody.js';
import { readBody } from './readBody.js';
import { resolveAliases } from './resolveAliases.js';
import { storeSignal } from './storeSignal.js';
import { validateAlert } from './validateAlert.js';

export interface WebhookInput {
  webhookId: string;
  receivedAt: Date;
  contentType: string | undefined;
  raw: Buffer;
  headers: Record<string, string | string[] | undefined>;
  queryToken: string | undefined;
}

export interface PipelineDeps {
  pool: Pool;
  authenticate: Authenticator;
  policy: Policy;
  dedupeWindowSeconds: number;
  executionMaxAttempts: number;
}

/**
 * The webhook pipeline after rate limit and IP checks: read, authenticate, parse, enrich, decide, store.
 * Throws a WebhookError for every refusal; resolves with the 200 answer.
 */
export async function processWebhook(deps: PipelineDeps, input: WebhookInput): Promise<AcceptedAnswer> {
  const body = readBody(input.contentType, input.raw);
  const fields = parseBody(body);
  const auth = deps.authenticate({ raw: input.raw, headers: input.headers, fields, queryToken: input.queryToken });
  const alert = validateAlert(auth.fields, resolveAliases(auth.fields));
  const signal = enrich(alert);
  const decision = decide(signal, deps.policy, input.receivedAt);
  return storeSignal(deps.pool, {
    id: uuidv7(),
    webhookId: input.webhookId,
    signal,
    dedupe: makeDedupeKey(signal, input.receivedAt, deps.dedupeWindowSeconds),
    status: decision.kind === 'accept' ? 'queued' : 'declined',
    declineReason: decision.kind === 'decline' ? decision.reason : null,
    traceId: null,
    receivedAt: input.receivedAt,
    traceparent: null,
    maxAttempts: deps.executionMaxAttempts,
  });
}
