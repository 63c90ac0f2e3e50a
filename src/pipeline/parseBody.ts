import { WebhookError } from '../http/errors.js';
import type { BodyText } from './readBody.js';

export type BodyFields = Record<string, unknown>;

/** At most this many KEY=VALUE pairs: the body limit already bounds bytes, this bounds work per pair. */
const MAX_PAIRS = 200;

/**
 * Turns the body text into fields. JSON objects as they are; `text/plain` may hold JSON (TradingView's own
 * behaviour) or KEY=VALUE pairs separated by newlines, `;` or `,`.
 */
export function parseBody(body: BodyText): BodyFields {
  const text = body.text.trim();
  const looksLikeJson = text.startsWith('{') || text.startsWith('[');
  if (body.mediaType === 'application/json' || looksLikeJson) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new WebhookError(
        'WH_ERR_MALFORMED_BODY',
        `The body is not valid JSON (${(err as Error).message}). Check the alert message: quotes around text placeholders, no trailing commas.`,
      );
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new WebhookError('WH_ERR_MALFORMED_BODY', 'The JSON body must be an object such as {"ticker":"{{ticker}}","action":"buy"}.');
    }
    return value as BodyFields;
  }
  return parseKeyValue(text);
}

function parseKeyValue(text: string): BodyFields {
  const fields: BodyFields = {};
  const parts = text.split(/[\n;,]/).map((p) => p.trim()).filter((p) => p.length > 0);
  if (parts.length > MAX_PAIRS) {
    throw new WebhookError('WH_ERR_MALFORMED_BODY', `Too many KEY=VALUE pairs (${parts.length}); at most ${MAX_PAIRS}.`);
  }
  for (const part of parts) {
    const eq = part.indexOf('=');
    const colon = part.indexOf(':');
    // `=` separates; `:` is accepted too when there is no `=` (ticker: BTCUSD), but not inside EXCHANGE:SYMBOL values.
    const at = eq > 0 ? eq : colon > 0 ? colon : -1;
    if (at <= 0) {
      throw new WebhookError(
        'WH_ERR_MALFORMED_BODY',
        `Cannot read "${part.slice(0, 60)}": send JSON, or KEY=VALUE pairs separated by newlines, ";" or ",".`,
      );
    }
    const key = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim().replace(/^"(.*)"$/, '$1');
    fields[key] = value;
  }
  return fields;
}
