import { describe, expect, it } from 'vitest';
import { describeJsonSyntaxError } from '../../src/core/json-syntax.js';

/** What describeJsonSyntaxError says about the error JSON.parse throws for `text`. */
function described(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return describeJsonSyntaxError(text, error);
  }
  throw new Error(`expected ${JSON.stringify(text)} not to parse`);
}

// A registry document whose bare-word token is a secret, long enough that V8 quotes an excerpt
// with "..." around it.
const LONG = `{"gitUrl": "https://example.com/${'x'.repeat(60)}", "authToken": hunter2-secret-value, "command": "${'y'.repeat(60)}"}`;

describe('describeJsonSyntaxError', () => {
  it.each([
    // V8 gives an offset ("at position N", and on Node 22 "(line L column C)" after it): that offset is used
    ['{"a":1}x', 'line 1, column 8: Unexpected non-whitespace character after JSON'],
    ['{"a": "x\\q"}', 'line 1, column 10: Bad escaped character'],
    ['{"a": 1, "b": 2}x', 'line 1, column 17: Unexpected non-whitespace character after JSON'],
    [
      '{\n  "aaaa": 1,\n  "bbbb": 2\n}\n\nx',
      'line 6, column 1: Unexpected non-whitespace character after JSON',
    ],
    ['{"a": 1, // c\n"b": 2}', 'line 1, column 10: Expected double-quoted property name'],
    // an unexpected token: no offset from V8, so jsonc-parser's (strict: no trailing comma, no comment)
    ['[1,]', 'line 1, column 4: Unexpected character "]"'],
    ['[1,\n2,]', 'line 2, column 3: Unexpected character "]"'],
    ['[// c\n1]', 'line 1, column 2: Unexpected character "/"'],
    ['[/* c */ 1]', 'line 1, column 2: Unexpected character "/"'],
    ["[']", 'line 1, column 2: Unexpected character "\'"'],
    ['{"a": "é", "b": ]}', 'line 1, column 17: Unexpected character "]"'],
    ['{\r\n"a": x}', 'line 2, column 6: Unexpected character "x"'],
    // the end of the input: the offset is the text's length
    ['', 'line 1, column 1: Unexpected end of JSON input'],
    ['\n\n  ', 'line 3, column 3: Unexpected end of JSON input'],
  ])('locates the error in %j', (text, expected) => {
    // GIVEN text that is not JSON / WHEN described / THEN the line, column and reason are exact
    expect(described(text)).toBe(expected);
  });

  it('never repeats the text V8 quotes, on one line or across several', () => {
    // GIVEN documents whose bad token is a secret: one short, spanning lines, one long (quoted as an excerpt)
    const multiLine = '{\n"a": secretword,\n"b": 1\n}';
    // WHEN described
    // THEN only the one unexpected character is shown, never the quoted text
    expect(described(multiLine)).toBe('line 2, column 6: Unexpected character "s"');
    expect(described(LONG)).toBe('line 1, column 109: Unexpected character "h"');
  });

  it('describes a thrown value that is not an Error by its text', () => {
    // GIVEN a parser that threw a string / WHEN described / THEN the string is the reason
    expect(describeJsonSyntaxError('[1,]', 'boom')).toBe('line 1, column 4: boom');
  });
});
