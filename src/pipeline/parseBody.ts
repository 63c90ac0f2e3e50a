import { WebhookError } from '../domain/errors.js';
import { describeJsonError } from './describeJsonError.js';
import { exceedsDepth } from './exceedsDepth.js';
import type { BodyText } from './readBody.js';

export type BodyFields = Record<string, unknown>;

/** At most this many KEY=VALUE pairs: the body limit already bounds bytes, this bounds work per pair. */
const MAX_PAIRS = 200;
/**
 * Objects and arrays nest at most this deep. TradingView templates nest 2 levels; 64 KiB of `[` nests 65,536,
 * which JSON.parse reads but JSON.stringify (storing the signal's extra fields, writing records) and Postgres'
 * jsonb parser refuse with a stack overflow: a 503 for the sender and a failed batch for the record sink.
 */
export const MAX_NESTING_DEPTH = 32;

/**
 * Turns the body text into fields. JSON objects as they are; `text/plain` may hold JSON (TradingView's own
 * behaviour) or KEY=VALUE pairs separated by newlines, `;` or `,`. Error messages give positions and what was
 * expected, never the text: a body that does not parse may hold the secret in any place.
 */
export function parseBody(body: BodyText): BodyFields {
  const text = body.text.trim();
  const looksLikeJson = text.startsWith('{') || text.startsWith('[');
  if (body.mediaType === 'application/json' || looksLikeJson) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      const before = body.text.slice(0, body.text.length - body.text.trimStart().length);
      throw new WebhookError(
        'WH_ERR_MALFORMED_BODY',
        `The body is not valid JSON: ${describeJsonError(text, before)}. Check the alert message: quotes around text placeholders, no trailing commas.`,
      );
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new WebhookError('WH_ERR_MALFORMED_BODY', 'The JSON body must be an object such as {"ticker":"{{ticker}}","action":"buy"}.');
    }
    if (exceedsDepth(value, MAX_NESTING_DEPTH)) {
      throw new WebhookError('WH_ERR_MALFORMED_BODY', `The JSON body nests objects or arrays deeper than ${MAX_NESTING_DEPTH} levels: flatten the alert message.`);
    }
    return value as BodyFields;
  }
  // The untrimmed text, so that line numbers in messages count from the body's first line.
  return parseKeyValue(body.text);
}

function parseKeyValue(text: string): BodyFields {
  const fields: BodyFields = {};
  const pairs: Array<{ part: string; line: number }> = [];
  text.split('\n').forEach((lineText, i) => {
    for (const raw of lineText.split(/[;,]/)) {
      const part = raw.trim();
      if (part.length > 0) pairs.push({ part, line: i + 1 });
    }
  });
  if (pairs.length > MAX_PAIRS) {
    throw new WebhookError('WH_ERR_MALFORMED_BODY', `Too many KEY=VALUE pairs (${pairs.length}); at most ${MAX_PAIRS}.`);
  }
  pairs.forEach(({ part, line }, index) => {
    const eq = part.indexOf('=');
    const colon = part.indexOf(':');
    // `=` separates; `:` is accepted too when there is no `=` (ticker: BTCUSD), but not inside EXCHANGE:SYMBOL values.
    const at = eq > 0 ? eq : colon > 0 ? colon : -1;
    if (at <= 0) {
      throw new WebhookError(
        'WH_ERR_MALFORMED_BODY',
        `Pair ${index + 1} (line ${line}) is not KEY=VALUE: send JSON, or KEY=VALUE pairs separated by newlines, ";" or ",".`,
      );
    }
    const key = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim().replace(/^"(.*)"$/, '$1');
    fields[key] = value;
  });
  return fields;
}
