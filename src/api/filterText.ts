import { z } from 'zod';
import { isStorableText } from '../domain/storableText.js';

/**
 * A text filter of a query string (a ticker, a strategy): trimmed, 1 to `maxLength` characters, and nothing
 * Postgres refuses as a parameter. `?ticker=%00` reached Postgres, which refused it (22021), and was answered 500
 * WH_ERR_INTERNAL with an error-level log instead of a 400 naming the parameter.
 */
export function filterText(maxLength: number) {
  return z.string().trim().min(1).max(maxLength).refine(isStorableText, 'must not contain a NUL character (%00) or a lone surrogate');
}

/** A ticker filter, compared upper-cased as tickers are stored. */
export const tickerFilter = filterText(40).transform((s) => s.toUpperCase());
