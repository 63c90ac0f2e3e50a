import type { z } from 'zod';
import { WebhookError } from '../domain/errors.js';

/** Validates query parameters; a bad one is a 400 naming the parameter. */
export function parseQuery<T extends z.ZodType>(schema: T, query: unknown): z.output<T> {
  const parsed = schema.safeParse(query);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`);
    throw new WebhookError('WH_ERR_BAD_REQUEST', `Invalid query: ${problems.join('; ')}.`, { details: { problems } });
  }
  return parsed.data;
}
