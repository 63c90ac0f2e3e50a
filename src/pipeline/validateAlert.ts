import { z } from 'zod';
import type { Alert } from '../domain/types.js';
import { WebhookError } from '../http/errors.js';
import { findPlaceholders } from './findPlaceholders.js';
import type { BodyFields } from './parseBody.js';

export const TICKER_PATTERN = /^[A-Za-z0-9._:!/-]{1,40}$/;

/** A number, or a string holding one ("42.5", " 1e3 "); finite. */
const numeric = (what: string) =>
  z.union([z.number(), z.string().trim().min(1)]).transform((v, ctx) => {
    const n = typeof v === 'number' ? v : Number(v.replace(/_/g, ''));
    if (!Number.isFinite(n)) {
      ctx.addIssue({ code: 'custom', message: `must be a finite number (${what}), got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return n;
  });
const nonNegative = (what: string) => numeric(what).refine((n) => n >= 0, `must not be negative (${what})`);
const text = (max: number) => z.union([z.string(), z.number()]).transform((v) => String(v).trim()).pipe(z.string().max(max));

const alertSchema = z.object({
  ticker: z
    .string({ error: (i) => (i.input === undefined ? 'is required (ticker, symbol or instrument)' : 'must be text') })
    .trim()
    .regex(TICKER_PATTERN, 'must be 1-40 characters of A-Z a-z 0-9 . _ : ! / -'),
  action: z
    .string({ error: (i) => (i.input === undefined ? 'is required (action, side, direction, signal or strategy.order_action)' : 'must be text') })
    .trim()
    .min(1, 'must not be empty'),
  quantity: nonNegative('contracts or units').optional(),
  price: nonNegative('price').optional(),
  positionSize: numeric('position size').optional(),
  time: z.union([z.string().trim().min(1), z.number()]).optional(),
  id: text(200).optional(),
  orderId: text(200).optional(),
  strategy: text(200).optional(),
  interval: text(40).optional(),
  exchange: text(40).optional(),
  marketPosition: text(40).optional(),
});

export type ValidAlert = z.output<typeof alertSchema> & { extra: Record<string, unknown> };

/**
 * Rejects a misconfigured alert (placeholders left as `{{...}}`) and checks each field, naming every bad one.
 * `fields` are the body fields as the sender named them (for the placeholder message).
 */
export function validateAlert(fields: BodyFields, alert: Alert): ValidAlert {
  const unresolved = findPlaceholders(fields);
  if (unresolved.length > 0) {
    throw new WebhookError(
      'WH_ERR_UNRESOLVED_PLACEHOLDER',
      `Unresolved TradingView placeholder in ${unresolved.join(', ')}: check the placeholder's spelling in the alert message (e.g. {{ticker}}, {{close}}, {{strategy.order.action}}); strategy placeholders only work in strategy alerts.`,
      { details: { fields: unresolved } },
    );
  }
  const { extra, ...known } = alert;
  const parsed = alertSchema.safeParse(known);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => ({ field: issue.path.join('.') || '(body)', message: issue.message }));
    throw new WebhookError(
      'WH_ERR_INVALID_PAYLOAD',
      `Invalid alert: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}.`,
      { details: { fields: problems } },
    );
  }
  return { ...parsed.data, extra };
}
