import { makeRandomHexSource } from './makeRandomHexSource.js';

/**
 * A webhook's span ids, derived from its id instead of drawn, so its record need not store them: the processing_stages
 * view (migration 0013) derives the same ids from the row's id. A webhook id is a UUIDv7 whose last eight bytes
 * are its variant, the generator's counter and random bits; the span ids keep the first seven of those bytes
 * (14 hex digits, the prefix) and end with one byte: 00 for the root span, n for the webhook's n-th stage (1 for
 * `received`, counting in the order the stages began). The prefix starts with the variant's bits (8 to b), so an id
 * is never all zeros; the ids of one webhook differ in their last byte, and those of two webhooks in their prefix
 * (ids made in the same millisecond differ in the counter, others in 54 random bits).
 *
 * Stored as arrays without span ids, a record is 90 bytes (five ids) smaller, of about 1,100.
 */
export function spanIdPrefixOf(webhookId: string): string {
  // "01a22d4e-e02a-7e60-b5d1-ee6b7bff8999": bytes 8-14 are characters 19-22 and 24-33.
  if (UUID.test(webhookId)) return (webhookId.slice(19, 23) + webhookId.slice(24, 34)).toLowerCase();
  // Not a uuid (a test's webhook, which no table can store): random ids, as before.
  return drawPrefix();
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const drawPrefix = makeRandomHexSource(7, 512);

/** The root span's id. */
export function rootSpanIdOf(prefix: string): string {
  return prefix + '00';
}

/** Stages a webhook may have at most: their ordinals are one byte (1-255). It has five or six. */
export const MAX_STAGES = 255;

const ORDINALS = Array.from({ length: MAX_STAGES + 1 }, (_, n) => n.toString(16).padStart(2, '0'));

/** The span id of the webhook's `ordinal`-th stage (1-based, at most MAX_STAGES). */
export function stageSpanIdOf(prefix: string, ordinal: number): string {
  if (!Number.isInteger(ordinal) || ordinal < 1 || ordinal > MAX_STAGES) throw new RangeError(`stage ordinal ${ordinal} is not within 1-${MAX_STAGES}`);
  return prefix + ORDINALS[ordinal]!;
}
