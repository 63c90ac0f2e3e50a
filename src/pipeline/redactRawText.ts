const MAX_RAW_CHARS = 1024;
// `secret=...`, `"secret": "..."`, `token: ...`, `secret ...` (a KEY=VALUE typo) in any case: the value goes,
// the name stays.
const SECRET_IN_TEXT = /("?(?:secret|passphrase|key|token)"?(?:\s*[:=]\s*|\s+))("[^"]*"|[^\s,;&}]*)/gi;

/**
 * A body we could not parse, as the monitoring record keeps it: at most 1 KiB, with anything that looks like
 * a secret's value replaced. (Parsed bodies are stored as fields, with the secret fields removed.)
 */
export function redactRawText(text: string): { raw: string; truncated: boolean } {
  const head = text.slice(0, MAX_RAW_CHARS);
  return { raw: head.replace(SECRET_IN_TEXT, '$1[redacted]'), truncated: text.length > MAX_RAW_CHARS };
}
