import { parseAddressList, type AddressList } from './parseAddressList.js';

/** TradingView's published webhook source addresses (IPv4 only). */
export const TRADINGVIEW_IPS = ['52.89.214.238', '34.212.75.30', '54.218.53.128', '52.32.178.7'] as const;

export type IpAllowlist = AddressList;

/**
 * Parses IP_ALLOWLIST: empty = off; `tradingview` = TradingView's four addresses; otherwise a comma list of
 * IPs and CIDRs (both families). `tradingview` may be combined with other entries.
 */
export function parseIpAllowlist(raw: string): IpAllowlist | undefined {
  const items = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) return undefined;
  const expanded = items.flatMap((item) => (item.toLowerCase() === 'tradingview' ? [...TRADINGVIEW_IPS] : [item]));
  return parseAddressList(expanded, '52.89.214.238, 10.0.0.0/8, tradingview');
}
