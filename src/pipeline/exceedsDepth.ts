/**
 * True when objects and arrays nest deeper than `maxDepth` (the body object itself is depth 1). Stops at the
 * limit, so its own recursion is bounded too.
 */
export function exceedsDepth(value: unknown, maxDepth: number, depth = 1): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (depth > maxDepth) return true;
  const items = Array.isArray(value) ? value : Object.values(value);
  for (const item of items) if (exceedsDepth(item, maxDepth, depth + 1)) return true;
  return false;
}
