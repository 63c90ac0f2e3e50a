import type { Alert } from '../domain/types.js';
import type { BodyFields } from './parseBody.js';

type Canonical = Exclude<keyof Alert, 'extra'>;

/**
 * Field names used by published TradingView templates, per canonical field, in order of precedence.
 * Names are compared after normalisation: lower case, without `_`, `-`, `.` and spaces
 * (so `order_action`, `orderAction` and `Order-Action` are one name).
 */
const TOP_LEVEL_ALIASES: Record<Canonical, string[]> = {
  ticker: ['ticker', 'symbol', 'instrument'],
  action: ['action', 'side', 'direction', 'signal', 'orderaction'],
  quantity: ['quantity', 'qty', 'contracts', 'size', 'ordercontracts'],
  price: ['price', 'close', 'orderprice'],
  time: ['time', 'timenow', 'timestamp'],
  id: ['id', 'alertid', 'orderid'],
  strategy: ['strategy', 'strategyname'],
  interval: ['interval', 'timeframe'],
  exchange: ['exchange'],
  marketPosition: ['marketposition'],
  positionSize: ['positionsize'],
  prevMarketPosition: ['prevmarketposition'],
  prevPositionSize: ['prevmarketpositionsize', 'prevpositionsize'],
  orderId: [],
};

/**
 * The nested `strategy` object of the widely copied strategy template. Its `order_id` is the order's *name*
 * in Pine (`strategy.entry("Long", ...)`), reused by every trade, so it is kept as `orderId`, not as the
 * alert's unique id.
 */
const STRATEGY_ALIASES: Partial<Record<Canonical, string[]>> = {
  action: ['orderaction', 'action'],
  quantity: ['ordercontracts', 'contracts', 'quantity'],
  price: ['orderprice', 'price'],
  orderId: ['orderid'],
  marketPosition: ['marketposition'],
  positionSize: ['positionsize'],
  prevMarketPosition: ['prevmarketposition'],
  prevPositionSize: ['prevmarketpositionsize', 'prevpositionsize'],
  strategy: ['name', 'strategyname'],
};

/** The alias tables as entries, made once: Object.entries on every webhook was about 1 KB of garbage each. */
const TOP_LEVEL_ENTRIES = Object.entries(TOP_LEVEL_ALIASES) as [Canonical, string[]][];
const STRATEGY_ENTRIES = Object.entries(STRATEGY_ALIASES) as [Canonical, string[]][];

export function normaliseKey(name: string): string {
  return name.toLowerCase().replace(/[\s_.-]/g, '');
}

function indexByNormalisedKey(fields: BodyFields): Map<string, { name: string; value: unknown }> {
  const index = new Map<string, { name: string; value: unknown }>();
  for (const [name, value] of Object.entries(fields)) {
    const key = normaliseKey(name);
    if (!index.has(key)) index.set(key, { name, value });
  }
  return index;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Maps the sender's field names onto the canonical alert; top-level fields win over the nested strategy object. */
export function resolveAliases(fields: BodyFields): Alert {
  const top = indexByNormalisedKey(fields);
  const strategyValue = top.get('strategy')?.value;
  const nested = isPlainObject(strategyValue) ? indexByNormalisedKey(strategyValue) : undefined;
  const used = new Set<string>();
  const alert: Alert = { extra: {} };

  for (const [canonical, aliases] of TOP_LEVEL_ENTRIES) {
    for (const alias of aliases) {
      const hit = top.get(alias);
      if (hit === undefined) continue;
      if (canonical === 'strategy' && isPlainObject(hit.value)) continue;
      alert[canonical] = hit.value;
      used.add(hit.name);
      break;
    }
  }
  if (nested) {
    used.add(top.get('strategy')!.name);
    for (const [canonical, aliases] of STRATEGY_ENTRIES) {
      if (alert[canonical] !== undefined) continue;
      for (const alias of aliases) {
        const hit = nested.get(alias);
        if (hit === undefined) continue;
        alert[canonical] = hit.value;
        break;
      }
    }
    // Keep the nested object whole for the record: it holds fields we do not interpret.
    alert.extra.strategy = strategyValue;
  }
  for (const [name, value] of Object.entries(fields)) {
    if (!used.has(name)) alert.extra[name] = value;
  }
  return alert;
}
