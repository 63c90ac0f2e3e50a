/** Longest strategy label value: sender-typed names are up to 200 characters. */
const MAX_LABEL_CHARS = 64;

/**
 * A strategy name as a Prometheus label value: printable ASCII letters, digits and `_ . : - /` only (anything
 * else becomes `_`), at most 64 characters; an alert without a strategy name is `unnamed`. Names that become
 * equal are reported together.
 */
export function strategyLabel(strategy: string): string {
  if (strategy === '') return 'unnamed';
  return strategy.replace(/[^A-Za-z0-9_.:\-/ ]/g, '_').slice(0, MAX_LABEL_CHARS);
}
