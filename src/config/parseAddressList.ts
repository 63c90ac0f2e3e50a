import { BlockList, isIP } from 'node:net';

export interface AddressList {
  /** The entries as configured, for the start-up banner and the health API. */
  entries: string[];
  /** Whether `ip` is one of the addresses or inside one of the CIDRs (false for anything that is not an IP). */
  allows(ip: string): boolean;
}

/** Strips the IPv4-mapped IPv6 prefix that dual-stack sockets report (`::ffff:1.2.3.4`). */
export function normaliseIp(ip: string): string {
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

/**
 * Compiles IPs and CIDRs (both families) into one matcher. Uses node's BlockList rather than our own CIDR
 * arithmetic. Throws an Error naming the first bad item; `example` is shown as what would be right.
 */
export function parseAddressList(items: string[], example: string): AddressList {
  const list = new BlockList();
  for (const item of items) {
    const [addr, prefixText, ...rest] = item.split('/');
    const family = isIP(addr ?? '');
    if (!addr || family === 0 || rest.length > 0) {
      throw new Error(`"${item}" is not an IP address or CIDR (expected e.g. ${example})`);
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
  }
  return {
    entries: [...items],
    allows(ip: string): boolean {
      const clean = normaliseIp(ip);
      const family = isIP(clean);
      if (family === 0) return false;
      return list.check(clean, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}
