import { z } from 'zod';
import type { Alert } from '../domain/types.js';
import { WebhookError } from '../domain/errors.js';
import { findPlaceholders } from './findPlaceholders.js';
import { findUnstorableText } from './findUnstorableText.js';
import type { BodyFields } from './parseBody.js';
import { parseDecimal } from './parseDecimal.js';

export const TICKER_PATTERN = /^[A-Za-z0-9._:!/-]{1,40}$/;

/**
 * Sanity bounds on numbers as input: beyond them an alert is invalid (422), not declined. (The trading policy's
 * MAX_QUANTITY and MAX_NOTIONAL decline valid alerts; these keep absurd numbers out of the signal and the book.)
 */
export interface InputLimits {
  /** Largest quantity, and largest absolute position size (INPUT_MAX_QUANTITY). */
  maxQuantity: number;
  /** Largest price (INPUT_MAX_PRICE). */
  maxPrice: number;
}

/** A JSON number, or a string holding a plain decimal ("42.5", " 1e3 "); finite. */
function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  return typeof value === 'string' ? parseDecimal(value) : undefined;
}

const numeric = (what: string) =>
  z.unknown().transform((v, ctx) => {
    const n = toNumber(v);
    if (n === undefined) {
      ctx.addIssue({ code: 'custom', message: `must be a finite number (${what}): a plain decimal such as 12 or 0.5` });
      return z.NEVER;
    }
    return n;
  });
const nonNegative = (what: string) => numeric(what).refine((n) => n >= 0, `must not be negative (${what})`);
const text = (max: number) => z.union([z.string(), z.number()]).transform((v) => String(v).trim()).pipe(z.string().max(max));

function makeAlertSchema(limits: InputLimits) {
  return z.object({
    ticker: z
      .string({ error: (i) => (i.input === undefined ? 'is required (ticker, symbol or instrument)' : 'must be text') })
      .trim()
      .regex(TICKER_PATTERN, 'must be 1-40 characters of A-Z a-z 0-9 . _ : ! / -'),
    action: z
      .string({ error: (i) => (i.input === undefined ? 'is required (action, side, direction, signal or strategy.order_action)' : 'must be text') })
      .trim()
      .min(1, 'must not be empty')
      .max(40, 'must be at most 40 characters'),
    quantity: nonNegative('contracts or units')
      .refine((n) => n <= limits.maxQuantity, `must be at most ${limits.maxQuantity} (INPUT_MAX_QUANTITY)`)
      .optional(),
    price: nonNegative('price')
      .refine((n) => n <= limits.maxPrice, `must be at most ${limits.maxPrice} (INPUT_MAX_PRICE)`)
      .optional(),
    positionSize: numeric('position size')
      .refine((n) => Math.abs(n) <= limits.maxQuantity, `must be between -${limits.maxQuantity} and ${limits.maxQuantity} (INPUT_MAX_QUANTITY)`)
      .optional(),
    prevPositionSize: nonNegative('previous position size')
      .refine((n) => n <= limits.maxQuantity, `must be at most ${limits.maxQuantity} (INPUT_MAX_QUANTITY)`)
      .optional(),
    time: z.union([z.string().trim().min(1).max(64, 'must be at most 64 characters'), z.number()]).optional(),
    id: text(200).optional(),
    orderId: text(200).optional(),
    strategy: text(200).optional(),
    interval: text(40).optional(),
    exchange: text(40).optional(),
    marketPosition: text(40).optional(),
    prevMarketPosition: text(40).optional(),
  });
}

type AlertSchema = ReturnType<typeof makeAlertSchema>;
const schemas = new WeakMap<InputLimits, AlertSchema>();

export type ValidAlert = z.output<AlertSchema> & { extra: Record<string, unknown> };

/**
 * Rejects text Postgres cannot store and a misconfigured alert (placeholders left as `{{...}}`), then checks
 * each field, naming every bad one. `fields` are the body fields as the sender named them (for the messages).
 */
export function validateAlert(fields: BodyFields, alert: Alert, limits: InputLimits): ValidAlert {
  const unstorable = findUnstorableText(fields);
  if (unstorable.length > 0) {
    throw new WebhookError(
      'WH_ERR_INVALID_PAYLOAD',
      `NUL character or invalid Unicode (a lone surrogate escape such as \\ud800) in ${unstorable.join(', ')}: remove it from the alert message.`,
      { details: { fields: unstorable.map((field) => ({ field, message: 'holds a NUL character or invalid Unicode' })) } },
    );
  }
  const unresolved = findPlaceholders(fields);
  if (unresolved.length > 0) {
    throw new WebhookError(
      'WH_ERR_UNRESOLVED_PLACEHOLDER',
      `Unresolved TradingView placeholder in ${unresolved.join(', ')}: check the placeholder's spelling in the alert message (e.g. {{ticker}}, {{close}}, {{strategy.order.action}}); strategy placeholders only work in strategy alerts.`,
      { details: { fields: unresolved } },
    );
  }
  let schema = schemas.get(limits);
  if (!schema) {
    schema = makeAlertSchema(limits);
    schemas.set(limits, schema);
  }
  const { extra, ...known } = alert;
  const parsed = schema.safeParse(known);
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
