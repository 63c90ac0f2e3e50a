import type { IpAllowlist } from '../config/parseIpAllowlist.js';
import { normaliseIp } from '../config/parseAddressList.js';
import { WebhookError } from '../domain/errors.js';

/** Refuses a client outside IP_ALLOWLIST (when one is configured). */
export function checkIpAllowlist(allowlist: IpAllowlist | undefined, clientIp: string): void {
  if (!allowlist || allowlist.allows(clientIp)) return;
  throw new WebhookError(
    'WH_ERR_IP_FORBIDDEN',
    `Requests from ${normaliseIp(clientIp)} are not allowed. Add the address to IP_ALLOWLIST, or check TRUST_PROXY if the service is behind a proxy.`,
  );
}
