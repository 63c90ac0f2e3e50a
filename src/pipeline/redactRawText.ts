import { isSecretKey } from './isSecretKey.js';

const MAX_RAW_CHARS = 1024;
/**
 * `name: value` or `name=value`, the name quoted (`"api key": ...`, spaces allowed) or bare (`api_key=...`),
 * the value quoted (with escapes; an unterminated quote runs to the end of the line) or bare up to a separator.
 */
const NAME_VALUE = /("[^"\n]{1,64}"|'[^'\n]{1,64}'|[\w.-]{1,64})(\s*[:=]\s*)("(?:[^"\\\n]|\\.)*"?|'[^'\n]*'?|[^\s,;&}]*)/g;

/**
 * A body we could not parse, as the monitoring record keeps it: at most 1 KiB, with the value of every
 * secret-looking name replaced (the same rule as for parsed fields, which are stored without such keys).
 */
export function redactRawText(text: string): { raw: string; truncated: boolean } {
  const head = text.slice(0, MAX_RAW_CHARS);
  const pattern = new RegExp(NAME_VALUE.source, 'g');
  let out = '';
  let copied = 0;
  for (let m = pattern.exec(head); m !== null; m = pattern.exec(head)) {
    const [, name = '', separator = ''] = m;
    const valueStart = m.index + name.length + separator.length;
    if (isSecretKey(name.replace(/^["']|["']$/g, ''))) {
      out += head.slice(copied, valueStart) + '[redacted]';
      copied = pattern.lastIndex;
    } else {
      // Not a secret: scan on inside its value, which may itself hold `secret=...` (`note=secret=abc`, `{"a": {"token": ...`).
      pattern.lastIndex = valueStart;
    }
  }
  return { raw: out + head.slice(copied), truncated: text.length > MAX_RAW_CHARS };
}
