/**
 * The SQLSTATE of whatever a query threw (pg sets it as `code`), or undefined: anything else, null and undefined
 * included, has none. Its first two characters are the class: 22 a data exception, 23 an integrity constraint, 54 a
 * program limit.
 */
export function sqlStateOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
