/**
 * A plain decimal: digits, optional fraction and exponent, `_` between digits (1_000). Number() alone would also
 * read "0x10" as 16, "0b11" as 3, "0o7" as 7, "Infinity", and "" or "  " as 0; none of those is a number a
 * TradingView placeholder produces. No nested quantifier can match the same text two ways: linear time.
 */
const DECIMAL = /^[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d+)?$/;

/** The finite number a plain decimal text holds (surrounding spaces allowed), else undefined. */
export function parseDecimal(text: string): number | undefined {
  const trimmed = text.trim();
  if (!DECIMAL.test(trimmed)) return undefined;
  const n = Number(trimmed.replaceAll('_', ''));
  return Number.isFinite(n) ? n : undefined;
}
