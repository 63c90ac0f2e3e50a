import { isSecretKey } from './isSecretKey.js';
import type { SecretScrubber } from './makeSecretScrubber.js';

/**
 * Nesting we look into. A 64 KiB body can nest about 32,000 levels deep; real alerts nest 2 (the `strategy`
 * object). Anything deeper is replaced, not kept: what we did not inspect for secrets is never stored.
 */
export const MAX_REDACT_DEPTH = 32;
export const TOO_DEEP = `[removed: nested deeper than ${MAX_REDACT_DEPTH} levels]`;

function redactValue(value: unknown, depth: number, scrub: SecretScrubber): unknown {
  if (typeof value === 'string') return scrub(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_REDACT_DEPTH) return TOO_DEEP;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1, scrub));
  // fromEntries defines own properties, so a field named "__proto__" stays a field and never becomes a prototype.
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([name]) => !isSecretKey(name))
      .map(([name, item]) => [scrub(name), redactValue(item, depth + 1, scrub)]),
  );
}

/**
 * The body's fields without any secret-looking key, at any depth and inside arrays, and (with `scrub`) without
 * the service's own secret values wherever they appear, in one walk: what the record, the signal (`extra`), logs
 * and traces may see. The input is not changed.
 */
export function redactSecrets(fields: Record<string, unknown>, scrub: SecretScrubber = (text) => text): Record<string, unknown> {
  return redactValue(fields, 0, scrub) as Record<string, unknown>;
}
