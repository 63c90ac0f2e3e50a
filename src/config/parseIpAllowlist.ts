import { BlockList, isIP } from 'node:net';

/** TradingView's published webhook source addresses (IPv4 only). */
export const TRADINGVIEW_IPS = ['52.89.214.238', '34.212.75.30', '54.218.53.128', '52.32.178.7'] as const;

export interface IpAllowlist {
  /** The entries as configured, for the start-up banner and the health API. */
  entries: string[];
  allows(ip: string): boolean;
}

/** Strips the IPv4-mapped IPv6 prefix that dual-stack sockets report (`::ffff:1.2.3.4`). */
export function normaliseIp(ip: string): string {
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

/**
 * Parses IP_ALLOWLIST: empty = off; `tradingview` = TradingView's four addresses; otherwise a comma list of
 * IPs and CIDRs (both families). `tradingview` may be combined with other entries.
 * Uses node's BlockList rather than our own CIDR arithmetic.
 */
export function parseIpAllowlist(raw: string): IpAllowlist | undefined {
  const items = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) return undefined;
  const list = new BlockList();
  const entries: string[] = [];
  for (const item of items) {
    if (item.toLowerCase() === 'tradingview') {
      for (const ip of TRADINGVIEW_IPS) list.addAddress(ip, 'ipv4');
      entries.push(...TRADINGVIEW_IPS);
      continue;
    }
    const [addr, prefixText, ...rest] = item.split('/');
    const family = isIP(addr ?? '');
    if (!addr || family === 0 || rest.length > 0) {
      throw new Error(`"${item}" is not an IP address or CIDR (expected e.g. 52.89.214.238, 10.0.0.0/8, tradingview)`);
    }
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefixText === undefined) {
      list.addAddress(addr, type);
    } else {
      const prefix = Number(prefixText);
      const max = family === 4 ? 32 : 128;
      if (!/^\d+$/.test(prefixText) || prefix > max) {
        throw new Error(`"${item}" has an invalid prefix length (0-${max})`);
      }
      list.addSubnet(addr, prefix, type);
    }
    entries.push(item);
  }
  return {
    entries,
    allows(ip: string): boolean {
      const clean = normaliseIp(ip);
      const family = isIP(clean);
      if (family === 0) return false;
      return list.check(clean, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}
