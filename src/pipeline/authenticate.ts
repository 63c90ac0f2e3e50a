import { createHash, timingSafeEqual } from 'node:crypto';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { WebhookError } from '../http/errors.js';
import type { BodyFields } from './parseBody.js';

/** Body fields that may carry the shared secret (TradingView cannot send headers). Matched case-insensitively. */
export const SECRET_FIELDS = ['secret', 'passphrase', 'key'] as const;
export const SIGNATURE_HEADERS = ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const;

export type AuthScheme = 'standard-webhooks' | 'body-secret' | 'query-token';

export interface AuthResult {
  scheme: AuthScheme;
  /** The body without its secret fields: what the rest of the pipeline (and storage) may see. */
  fields: BodyFields;
}

export interface AuthInput {
  raw: Buffer;
  headers: Record<string, string | string[] | undefined>;
  fields: BodyFields;
  queryToken: string | undefined;
}

export type Authenticator = (input: AuthInput) => AuthResult;

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Removes every secret-bearing field (any case) and returns the candidates found in them. */
export function stripSecretFields(fields: BodyFields): { fields: BodyFields; candidates: string[] } {
  const clean: BodyFields = {};
  const candidates: string[] = [];
  for (const [name, value] of Object.entries(fields)) {
    if ((SECRET_FIELDS as readonly string[]).includes(name.toLowerCase())) {
      if (typeof value === 'string' || typeof value === 'number') candidates.push(String(value));
      continue;
    }
    clean[name] = value;
  }
  return { fields: clean, candidates };
}

/**
 * Shared secret (body field or `?token=`) compared in constant time against every configured secret (several
 * during a rotation), or a Standard Webhooks signature (HMAC-SHA256 over id.timestamp.body, 5-minute
 * tolerance) verified by the `standardwebhooks` package.
 */
export function makeAuthenticator(options: { secrets: string[]; signingSecret: string | undefined }): Authenticator {
  // Digests of equal length make timingSafeEqual usable whatever the candidate's length.
  const secretDigests = options.secrets.map(digest);
  const verifier = options.signingSecret ? new Webhook(options.signingSecret) : undefined;

  const matchesSharedSecret = (candidate: string): boolean => {
    const d = digest(candidate);
    let match = false;
    // No early exit: the time taken does not reveal which secret (if any) matched.
    for (const s of secretDigests) match = timingSafeEqual(d, s) || match;
    return match;
  };

  return ({ raw, headers, fields, queryToken }) => {
    const stripped = stripSecretFields(fields);
    if (verifier && headers['webhook-signature'] !== undefined) {
      const signed: Record<string, string> = {};
      for (const name of SIGNATURE_HEADERS) {
        const v = headers[name];
        if (typeof v === 'string') signed[name] = v;
      }
      try {
        verifier.verify(raw, signed, { jsonParse: false });
        return { scheme: 'standard-webhooks', fields: stripped.fields };
      } catch (err) {
        const reason = err instanceof WebhookVerificationError ? err.message : 'verification failed';
        throw new WebhookError(
          'WH_ERR_AUTH_INVALID',
          `Standard Webhooks signature rejected (${reason}). Sign id.timestamp.body with WEBHOOK_SIGNING_SECRET; the timestamp must be within 5 minutes.`,
        );
      }
    }
    const candidates = [...stripped.candidates];
    if (queryToken !== undefined) candidates.push(queryToken);
    if (candidates.length === 0) {
      throw new WebhookError(
        'WH_ERR_AUTH_MISSING',
        'No secret: add "secret": "<your secret>" to the alert message, or ?token=<your secret> to the webhook URL.',
      );
    }
    for (const candidate of candidates) {
      if (matchesSharedSecret(candidate)) {
        const scheme: AuthScheme = stripped.candidates.includes(candidate) ? 'body-secret' : 'query-token';
        return { scheme, fields: stripped.fields };
      }
    }
    throw new WebhookError('WH_ERR_AUTH_INVALID', 'The secret does not match. Copy it again from the service start-up output or WEBHOOK_SECRETS.');
  };
}
