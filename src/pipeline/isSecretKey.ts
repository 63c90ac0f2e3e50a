import { normaliseKey } from './resolveAliases.js';

/**
 * Normalised names (lower case, without spaces, `_`, `-`, `.`) that hold a secret by themselves. `key` is one:
 * TradingView templates carry the shared secret as "key" (see SECRET_LOCATION_FIELDS in authenticate.ts).
 */
const SECRET_NAMES = new Set(['key', 'pass', 'pw', 'pwd', 'auth', 'sig']);

/**
 * Parts that make any name secret-looking (`client_secret`, `x-api-key`, `accessToken`, `db.password`).
 * None of them occurs in a field we interpret (ticker, action, contracts, market_position, ...), so matching
 * by part strips nothing an alert needs.
 */
const SECRET_PARTS = [
  'secret',
  'passphrase',
  'password',
  'passwd',
  'token',
  'apikey',
  'accesskey',
  'privatekey',
  'signingkey',
  'authorization',
  'credential',
  'signature',
  'cookie',
  'bearer',
];

/** Whether a field or header name looks like it holds a secret, whatever its case, separators or surrounding spaces. */
export function isSecretKey(name: string): boolean {
  const n = normaliseKey(name);
  if (SECRET_NAMES.has(n)) return true;
  return SECRET_PARTS.some((part) => n.includes(part));
}
