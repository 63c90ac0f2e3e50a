import { parse, type ParseError, ParseErrorCode } from 'jsonc-parser';

/** What the parser expected, per error: never the text it found (that may be the secret). */
const EXPECTED: Record<ParseErrorCode, string> = {
  [ParseErrorCode.InvalidSymbol]: 'a JSON value: text in double quotes, a plain decimal number, true, false or null',
  [ParseErrorCode.InvalidNumberFormat]: 'a plain decimal number',
  [ParseErrorCode.PropertyNameExpected]: 'a field name in double quotes (no trailing comma before "}")',
  [ParseErrorCode.ValueExpected]: 'a value after ":" or "," (text placeholders need double quotes; no trailing comma before "]")',
  [ParseErrorCode.ColonExpected]: '":" after the field name',
  [ParseErrorCode.CommaExpected]: '"," between fields or items',
  [ParseErrorCode.CloseBraceExpected]: '"}" to close the object',
  [ParseErrorCode.CloseBracketExpected]: '"]" to close the array',
  [ParseErrorCode.EndOfFileExpected]: 'the end of the body after the JSON object',
  [ParseErrorCode.InvalidCommentToken]: 'no comment (JSON has none)',
  [ParseErrorCode.UnexpectedEndOfComment]: 'no comment (JSON has none)',
  [ParseErrorCode.UnexpectedEndOfString]: 'a closing double quote for the text that starts here',
  [ParseErrorCode.UnexpectedEndOfNumber]: 'digits to complete the number',
  [ParseErrorCode.InvalidUnicode]: 'four hex digits after \\u',
  [ParseErrorCode.InvalidEscapeCharacter]: 'an escape such as \\" \\\\ \\n \\t or \\uXXXX',
  [ParseErrorCode.InvalidCharacter]: 'no raw control character (tab, newline) inside text: escape it',
};

/** Line and column (from 1) of a character offset, counting lines as `\n`. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line += 1;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * Where JSON that JSON.parse refused goes wrong, and what was expected there: "line 1, column 12 (character 12):
 * expected ...". V8's own message quotes the text around the error, which can be the sender's secret
 * (`{"secret": mysecret}`), and every error message reaches the answer, the record, the span and the OTLP export.
 * jsonc-parser (VS Code's JSON scanner, strict options) locates the first error without quoting anything.
 * `before` is what preceded `text` in the body (trimmed whitespace), so that positions count from the body's start.
 */
export function describeJsonError(text: string, before = ''): string {
  let first: ParseError | undefined;
  try {
    const errors: ParseError[] = [];
    parse(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
    first = errors[0];
  } catch {
    // jsonc-parser recurses once per nesting level: thousands of unclosed `[` exhaust the stack.
    return 'nested too deeply to locate the error';
  }
  if (!first) return 'not accepted by the JSON parser';
  const offset = before.length + first.offset;
  const { line, column } = lineColumn(before + text, offset);
  return `at line ${line}, column ${column} (character ${offset + 1}): expected ${EXPECTED[first.error] ?? 'valid JSON'}`;
}
