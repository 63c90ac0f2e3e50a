import { createHash } from 'node:crypto';
import { isSecretKey } from './isSecretKey.js';

const MAX_RAW_CHARS = 1024;
/**
 * `name: value`, `name=value` or `name value` (a KEY=VALUE typo), the name quoted (`"api key": ...`, spaces
 * allowed) or bare (`api_key=...`), the value quoted (with escapes; an unterminated quote runs to the end of the
 * line) or bare up to a separator.
 */
const NAME_VALUE = /("[^"\n]{1,64}"|'[^'\n]{1,64}'|[\w.-]{1,64})(\s*[:=]\s*|[ \t]+)("(?:[^"\\\n]|\\.)*"?|'[^'\n]*'?|[^\s,;&}]*)/g;

/**
 * Replaces the value of every secret-looking name (the same rule as for parsed fields, which lose such keys).
 * With `rescan`, a value that is not a secret is scanned again from its start, since it may hold `secret=...`
 * (`note=secret=abc`): thorough, but quadratic on `a=a=a=...`, so only for the 1 KiB that is stored.
 */
function redactSecretValues(text: string, rescan: boolean): string {
  const pattern = new RegExp(NAME_VALUE.source, 'g');
  let out = '';
  let copied = 0;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    const [, name = '', separator = ''] = m;
    const valueStart = m.index + name.length + separator.length;
    if (isSecretKey(name.replace(/^["']|["']$/g, ''))) {
      out += text.slice(copied, valueStart) + '[redacted]';
      copied = pattern.lastIndex;
    } else if (rescan) {
      pattern.lastIndex = valueStart;
    } else if (pattern.lastIndex === m.index) {
      pattern.lastIndex += 1; // an empty match: step on
    }
  }
  return out + text.slice(copied);
}

/** A body we could not parse, as the monitoring record keeps it: at most 1 KiB, secret values replaced. */
export function redactRawText(text: string): { raw: string; truncated: boolean } {
  return { raw: redactSecretValues(text.slice(0, MAX_RAW_CHARS), true), truncated: text.length > MAX_RAW_CHARS };
}

/**
 * SHA-256 (hex) of the whole text with secret values replaced: a digest of a body kept only in part. One pass
 * (linear in the body size); a secret inside another value is not found here, but a digest reveals nothing of it.
 */
export function digestRedactedText(text: string): string {
  return createHash('sha256').update(redactSecretValues(text, false)).digest('hex');
}
