import { type ParseError, parse as parseTolerant } from 'jsonc-parser';

/**
 * Where a `JSON.parse` failure is, as `line L, column C: <reason>`. V8 gives an offset for most
 * failures ("… in JSON at position 50"), but none for an unexpected token, whose message quotes
 * the text instead (never repeated here: the text may hold a secret). jsonc-parser, in strict
 * mode, finds that offset. Columns count UTF-16 code units, as both offsets do.
 */
export function describeJsonSyntaxError(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const reason = message
    // `Unexpected token 'x', ..."<text>"... is not valid JSON`: keep the token, drop the text.
    .replace(/, (\.\.\.)?".*$/s, '')
    .replace(
      /^Unexpected token '(.)'$/s,
      (_, token: string) => `Unexpected character ${JSON.stringify(token)}`,
    )
    .replace(/( in JSON)? at position \d+.*$/s, '');
  const position = / at position (\d+)/.exec(message)?.[1];
  const offset = position === undefined ? firstErrorOffset(text) : Number(position);
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  return `line ${line}, column ${column}: ${reason}`;
}

function firstErrorOffset(text: string): number {
  const errors: ParseError[] = [];
  parseTolerant(text, errors, {
    disallowComments: true,
    allowTrailingComma: false,
    allowEmptyContent: false,
  });
  // No error found: V8 stopped at the end ("Unexpected end of JSON input").
  return errors[0]?.offset ?? text.length;
}
