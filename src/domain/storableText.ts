/** ES2024 String methods (Node 20 and later); the project's TypeScript lib is ES2022. */
type WellFormedString = string & { isWellFormed(): boolean; toWellFormed(): string };

/**
 * True when Postgres can store the text: no NUL character (`text` refuses a 0 byte, `jsonb` the `\u0000` escape)
 * and no lone UTF-16 surrogate (`jsonb` refuses the `\ud800` JSON.stringify writes for it).
 */
export function isStorableText(text: string): boolean {
  return (text as WellFormedString).isWellFormed() && !text.includes('\u0000');
}

/**
 * The text with U+FFFD in place of what Postgres cannot store. For text from outside that we must keep whatever
 * it holds: a broker bridge's answer, an executor's error. One NUL in it made the statement recording the
 * execution fail, and the order was sent again at every attempt.
 */
export function toStorableText(text: string): string {
  return isStorableText(text) ? text : (text as WellFormedString).toWellFormed().replaceAll('\u0000', '\uFFFD');
}
