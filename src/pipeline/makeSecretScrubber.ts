/** Replaces every occurrence of a known secret value in text. */
export type SecretScrubber = (text: string) => string;

const REDACTED = '[redacted]';

/**
 * The service's own secrets (webhook secrets, the signing secret, the admin token) are scrubbed from whatever
 * the monitoring record keeps of a body, wherever they appear: a body that is nothing but the pasted secret, or
 * a secret under a key that does not look like one (`{"note": "<secret>"}`), is otherwise stored as sent. Names
 * alone cannot catch these; the values can. Linear: one `includes` scan per secret and string (secrets are 16+
 * characters, so an innocent string is very unlikely to contain one).
 */
export function makeSecretScrubber(secrets: ReadonlyArray<string | undefined>): SecretScrubber {
  const known = [...new Set(secrets.filter((s): s is string => typeof s === 'string' && s.length > 0))].sort((a, b) => b.length - a.length);
  if (known.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const secret of known) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out;
  };
}
