import { parseAddressList } from './parseAddressList.js';

/** The most proxies a hop count may skip; a longer chain is a configuration mistake, not a deployment. */
const MAX_HOPS = 10;

/**
 * Whose X-Forwarded-For the service believes. `trusts` is proxy-addr's trust function, which Fastify's
 * `trustProxy` option takes: it walks the chain from the socket peer (hop 0) through X-Forwarded-For from
 * right to left, and the client address (request.ip) is the first hop it does not trust.
 */
export interface TrustProxy {
  trusts(address: string, hop: number): boolean;
}

/**
 * Parses TRUST_PROXY. Off: empty, `false`, `0`, `no`. A hop count N: trust exactly N proxies, so the client is
 * the N-th address from the right, counting the socket peer as the first (safe only when the service's port
 * is reachable through those proxies alone). Otherwise a comma list of the proxies' addresses/CIDRs: every
 * listed hop is skipped from the right, the first unlisted one is the client.
 *
 * `true` is refused. It used to mean "trust every hop", which makes the LEFT-most X-Forwarded-For entry the
 * client: anyone could write an allowed address there and pass IP_ALLOWLIST and the per-IP rate limit.
 * Redefining it quietly (as loopback, say) would leave a deployment that set it for a proxy on another host
 * refusing every webhook with no hint why; refusing at start-up says exactly what to write instead.
 * (Fastify itself now treats a bare number as "trust nothing", which is why TRUST_PROXY=1 did nothing: it is
 * implemented here as a trust function instead.)
 */
export function parseTrustProxy(raw: string): TrustProxy | undefined {
  const value = raw.trim().toLowerCase();
  if (value === '' || value === 'false' || value === '0' || value === 'no') return undefined;
  if (value === 'true' || value === 'yes') {
    throw new Error(
      'trusting every hop would let any client choose its own address by sending X-Forwarded-For. ' +
        "List the proxies' addresses or CIDRs (e.g. 127.0.0.1 or 10.0.0.0/8), or give the number of proxies in front of the service (e.g. 1).",
    );
  }
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops > MAX_HOPS) throw new Error(`a hop count must be 1 to ${MAX_HOPS} (the number of proxies in front of the service)`);
    return { trusts: (_address, hop) => hop < hops };
  }
  const items = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const proxies = parseAddressList(items, '127.0.0.1, 10.0.0.0/8, or a hop count such as 1');
  return { trusts: (address) => proxies.allows(address) };
}
