import { createHash, timingSafeEqual } from 'node:crypto';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { WebhookError } from '../domain/errors.js';
import type { BodyFields } from './parseBody.js';
import { normaliseKey } from './resolveAliases.js';

/**
 * The body's secret location (TradingView cannot send headers): the top-level fields whose normalised name
 * (any case, spaces, `_`, `-`, `.`) is one of these. Several may be present only if they hold the same value.
 */
export const SECRET_LOCATION_FIELDS = ['secret', 'passphrase', 'key'] as const;
export const SIGNATURE_HEADERS = ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const;
/** The standardwebhooks package's fixed tolerance: a signed message is accepted while its timestamp is within this of now. */
export const SIGNATURE_TOLERANCE_SECONDS = 5 * 60;

export type AuthScheme = 'standard-webhooks' | 'body-secret' | 'query-token';

/** A verified Standard Webhooks message: its id (the sender's idempotency key) and signed timestamp. */
export interface SignedMessage {
  id: string;
  timestamp: Date;
}

export interface AuthResult {
  scheme: AuthScheme;
  /** Set for the standard-webhooks scheme. */
  signed?: SignedMessage;
}

export interface AuthInput {
  raw: Buffer;
  headers: Record<string, string | string[] | undefined>;
  fields: BodyFields;
  /** `?token=`; an array when the parameter is repeated. */
  queryToken: string | string[] | undefined;
}

export type Authenticator = (input: AuthInput) => AuthResult;

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

const LOCATION_NAMES: ReadonlySet<string> = new Set(SECRET_LOCATION_FIELDS);

/** The names and values of the body's secret location fields. A value that is not text is refused. */
function readBodySecrets(fields: BodyFields): { names: string[]; values: string[] } {
  const names: string[] = [];
  const values: string[] = [];
  for (const [name, value] of Object.entries(fields)) {
    if (!LOCATION_NAMES.has(normaliseKey(name))) continue;
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw new WebhookError('WH_ERR_AUTH_INVALID', `The secret field "${name.slice(0, 40)}" must be text: "secret": "<your secret>".`);
    }
    names.push(name.slice(0, 40));
    values.push(String(value));
  }
  return { names, values };
}

/**
 * One secret location per scheme, so that one request is one guess:
 * - `standard-webhooks`: the `webhook-signature` header (when WEBHOOK_SIGNING_SECRET is set), an HMAC-SHA256
 *   over id.timestamp.body verified by the `standardwebhooks` package (5-minute tolerance); body fields and
 *   the URL are not read.
 * - otherwise the shared secret: the body's `secret`/`passphrase`/`key` field and/or `?token=`. All the
 *   values given must be equal (else 401, "different secrets"); that one value is compared in constant time
 *   against every configured secret (several during a rotation).
 * `secretLocation` says where the operator finds the secret (WEBHOOK_SECRETS or DATA_DIR/secrets.json); the
 * secret itself never appears in a message.
 */
export function makeAuthenticator(options: { secrets: string[]; signingSecret: string | undefined; secretLocation: string }): Authenticator {
  // Digests of equal length make timingSafeEqual usable whatever the candidate's length.
  const secretDigests = options.secrets.map(digest);
  const verifier = options.signingSecret ? new Webhook(options.signingSecret) : undefined;
  const where = `The webhook secret is kept in ${options.secretLocation}.`;

  const matchesSharedSecret = (candidate: string): boolean => {
    const d = digest(candidate);
    let match = false;
    // No early exit: the time taken does not reveal which secret (if any) matched.
    for (const s of secretDigests) match = timingSafeEqual(d, s) || match;
    return match;
  };

  const verifySigned = (raw: Buffer, headers: AuthInput['headers']): AuthResult => {
    const signed: Record<string, string> = {};
    for (const name of SIGNATURE_HEADERS) {
      const v = headers[name];
      if (typeof v === 'string') signed[name] = v;
    }
    try {
      verifier!.verify(raw, signed, { jsonParse: false });
    } catch (err) {
      const reason = err instanceof WebhookVerificationError ? err.message : 'verification failed';
      throw new WebhookError(
        'WH_ERR_AUTH_INVALID',
        `Standard Webhooks signature rejected (${reason}). Sign id.timestamp.body with WEBHOOK_SIGNING_SECRET; the timestamp must be within 5 minutes.`,
      );
    }
    // Verified, so both headers are present and the timestamp parses (the package reads it with parseInt too).
    const timestamp = new Date(Number.parseInt(signed['webhook-timestamp']!, 10) * 1000);
    return { scheme: 'standard-webhooks', signed: { id: signed['webhook-id']!, timestamp } };
  };

  return ({ raw, headers, fields, queryToken }) => {
    if (verifier && headers['webhook-signature'] !== undefined) return verifySigned(raw, headers);

    const body = readBodySecrets(fields);
    const query = queryToken === undefined ? [] : Array.isArray(queryToken) ? queryToken : [queryToken];
    const given = new Set([...body.values, ...query]);
    if (given.size === 0) {
      throw new WebhookError(
        'WH_ERR_AUTH_MISSING',
        `No secret: add "secret": "<your secret>" to the alert message, or ?token=<your secret> to the webhook URL. ${where}`,
      );
    }
    if (given.size > 1) {
      const places = [...body.names.map((n) => `"${n}"`), ...query.map(() => '?token=')].join(', ');
      throw new WebhookError(
        'WH_ERR_AUTH_INVALID',
        `The request carries different secrets (in ${places}); send one secret, in one place. ${where}`,
      );
    }
    const candidate = given.values().next().value as string;
    if (!matchesSharedSecret(candidate)) {
      throw new WebhookError('WH_ERR_AUTH_INVALID', `The secret does not match. ${where}`);
    }
    return { scheme: body.values.length > 0 ? 'body-secret' : 'query-token' };
  };
}
