/**
 * Each encoded form of a secret redacted whole: in text, split across chunks at every point, byte
 * by byte, and as the last thing a stream carries. The expected forms are written out (computed
 * with Python's base64, urllib.parse and json, not with the code under test).
 */
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { encodedForms, Redactor } from '../../src/core/redact.js';

// Characters every encoding treats specially: quote, parentheses, `*`, `!`, `~`, a space, `/`,
// `+`, `"`, `\`, non-ASCII; its base64 has `/`, `+` and `==` padding.
const SECRET = 'o\'k(é)*!~ a/b+c"d\\e?ü>?';

const FORMS: Array<[string, string]> = [
  ['encodeURIComponent', "o'k(%C3%A9)*!~%20a%2Fb%2Bc%22d%5Ce%3F%C3%BC%3E%3F"],
  ['encodeURIComponent, lower-case hex', "o'k(%c3%a9)*!~%20a%2fb%2bc%22d%5ce%3f%c3%bc%3e%3f"],
  ['RFC 3986', 'o%27k%28%C3%A9%29%2A%21~%20a%2Fb%2Bc%22d%5Ce%3F%C3%BC%3E%3F'],
  ['RFC 3986, lower-case hex', 'o%27k%28%c3%a9%29%2a%21~%20a%2fb%2bc%22d%5ce%3f%c3%bc%3e%3f'],
  ['form-encoded', "o'k(%C3%A9)*!~+a%2Fb%2Bc%22d%5Ce%3F%C3%BC%3E%3F"],
  ['form-encoded, lower-case hex', "o'k(%c3%a9)*!~+a%2fb%2bc%22d%5ce%3f%c3%bc%3e%3f"],
  ['RFC 3986 form-encoded (quote_plus)', 'o%27k%28%C3%A9%29%2A%21~+a%2Fb%2Bc%22d%5Ce%3F%C3%BC%3E%3F'],
  ['RFC 3986 form-encoded, lower-case hex', 'o%27k%28%c3%a9%29%2a%21~+a%2fb%2bc%22d%5ce%3f%c3%bc%3e%3f'],
  ['URLSearchParams', 'o%27k%28%C3%A9%29*%21%7E+a%2Fb%2Bc%22d%5Ce%3F%C3%BC%3E%3F'],
  ['URLSearchParams, lower-case hex', 'o%27k%28%c3%a9%29*%21%7e+a%2fb%2bc%22d%5ce%3f%c3%bc%3e%3f'],
  ['base64', 'bydrKMOpKSohfiBhL2IrYyJkXGU/w7w+Pw=='],
  ['base64url', 'bydrKMOpKSohfiBhL2IrYyJkXGU_w7w-Pw'],
  ['hex', '6f276b28c3a9292a217e20612f622b6322645c653fc3bc3e3f'],
  ['HEX', '6F276B28C3A9292A217E20612F622B6322645C653FC3BC3E3F'],
  ['JSON', 'o\'k(é)*!~ a/b+c\\"d\\\\e?ü>?'],
  ['JSON with \\/', 'o\'k(é)*!~ a\\/b+c\\"d\\\\e?ü>?'],
  ['JSON, ASCII only', 'o\'k(\\u00e9)*!~ a/b+c\\"d\\\\e?\\u00fc>?'],
  ['JSON, ASCII only, upper-case \\u', 'o\'k(\\u00E9)*!~ a/b+c\\"d\\\\e?\\u00FC>?'],
];

async function streamThrough(redactor: Redactor, chunks: Array<string | Buffer>): Promise<string> {
  return text(
    Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c))).pipe(redactor.stream()),
  );
}

describe('encodedForms', () => {
  it('lists exactly hex, HEX, base64 and base64url, whole and at each alignment, for a plain token', () => {
    // GIVEN a token of URL- and JSON-safe characters (its percent and JSON forms are itself)
    // WHEN its forms are listed / THEN they are exactly these (computed with Python's base64)
    expect(new Set(encodedForms('tok3n-value-0123'))).toEqual(
      new Set([
        '746f6b336e2d76616c75652d30313233',
        '746F6B336E2D76616C75652D30313233',
        'dG9rM24tdmFsdWUtMDEyMw==',
        'dG9rM24tdmFsdWUtMDEyMw',
        'dG9rM24tdmFsdWUtMDEyM',
        'RvazNuLXZhbHVlLTAxMj',
        '0b2szbi12YWx1ZS0wMTIz',
      ]),
    );
    expect(encodedForms('tok3n-value-0123')).toHaveLength(7);
  });

  it('lists every form written out above, and not the secret itself', () => {
    // GIVEN the secret / WHEN its forms are listed
    const forms = encodedForms(SECRET);
    // THEN each expected form is there, once, and the secret (redacted on its own) is not
    for (const [, form] of FORMS) expect(forms).toContain(form);
    expect(forms).not.toContain(SECRET);
    expect(new Set(forms).size).toBe(forms.length);
  });
});

describe('Redactor: each encoded form, whole and streamed', () => {
  it.each(FORMS)('redacts the %s form in text', (_name, form) => {
    // GIVEN a redactor for the secret / WHEN text holding the form is redacted
    const out = new Redactor([SECRET]).redact(`before ${form} after`);
    // THEN exactly the form is replaced, by one REDACTED
    expect(out).toBe('before *** after');
  });

  it.each(FORMS)('redacts the %s form split across two chunks at every point', async (_name, form) => {
    // GIVEN a line holding the form, cut in two at every position
    const redactor = new Redactor([SECRET]);
    const line = `before ${form} after\n`;
    for (let cut = 1; cut < line.length; cut++) {
      // WHEN streamed / THEN the form is replaced whatever the cut
      expect(await streamThrough(redactor, [line.slice(0, cut), line.slice(cut)])).toBe('before *** after\n');
    }
  });

  it.each(FORMS)(
    'redacts the %s form byte by byte, and as the last thing in the stream',
    async (_name, form) => {
      // GIVEN a redactor with a longer secret too, so the form sits inside the held-back tail at the end
      const redactor = new Redactor([SECRET, `${'L'.repeat(200)}-much-longer-secret`]);
      const bytes = [...Buffer.from(`x ${form}`)].map((b) => Buffer.from([b]));
      // WHEN streamed one byte at a time, or in one chunk, ending with the form and no newline
      // THEN the end of the stream is redacted too
      expect(await streamThrough(redactor, bytes)).toBe('x ***');
      expect(await streamThrough(redactor, [`x ${form}`])).toBe('x ***');
    },
  );

  it.each([
    ['', 'base64'],
    ['a', 'base64'],
    ['ab', 'base64'],
    ['x-access-token:', 'base64'],
    ['', 'base64url'],
    ['a', 'base64url'],
    ['ab', 'base64url'],
  ] as const)('redacts the secret inside a longer %s stream after %j', async (prefix, encoding) => {
    // GIVEN the secret encoded at each of the three alignments inside a longer text
    const redactor = new Redactor([SECRET]);
    const encoded = Buffer.from(`${prefix}${SECRET} and more`).toString(encoding);
    // WHEN redacted, whole and streamed in 5-character chunks
    const whole = redactor.redact(encoded);
    const streamed = await streamThrough(redactor, encoded.match(/[\s\S]{1,5}/g) ?? []);
    // THEN one REDACTED stands for the run that depends only on the secret, and nothing of it is left
    expect(streamed).toBe(whole);
    expect(whole.match(/\*\*\*/g)).toHaveLength(1);
    const left = Buffer.from(whole.replace('***', ''), encoding).toString('latin1');
    expect(left).not.toMatch(/b\+c|a\/b|\(/);
  });
});

describe('Redactor: secrets side by side', () => {
  const ONE = 'first-secret-1111';
  const TWO = 'second-secret-2222';

  it('redacts two secrets that touch, or overlap, as one', async () => {
    // GIVEN two secrets printed with no gap, and two whose ends overlap ("...-1111" and "1111-...")
    const redactor = new Redactor([ONE, TWO, '1111-overlapping']);
    // WHEN redacted, whole and byte by byte
    // THEN each run of secret text is one REDACTED, and the text around it is kept
    expect(redactor.redact(`<${ONE}${TWO}>`)).toBe('<***>');
    expect(redactor.redact(`<${ONE}-overlapping>`)).toBe('<***>');
    expect(redactor.redact(`<${ONE}>${TWO}`)).toBe('<***>***');
    expect(await streamThrough(redactor, [...`<${ONE}-overlapping>${TWO}`])).toBe('<***>***');
  });

  it('redacts overlapping secrets whole at every chunk boundary, when the shorter one starts first', async () => {
    // GIVEN a secret whose end starts a longer one ("first-secret-1111" and "1111-overlapping-…")
    const longer = '1111-overlapping-longer-piece';
    const redactor = new Redactor([ONE, longer]);
    const line = `${'x'.repeat(80)}<${ONE}${longer.slice(4)}>\n`;
    for (let cut = 1; cut < line.length; cut++) {
      // WHEN streamed in two chunks, cut at every point
      // THEN both are redacted, as one, whatever the cut: no tail of the longer one is left
      expect(await streamThrough(redactor, [line.slice(0, cut), line.slice(cut)])).toBe(
        `${'x'.repeat(80)}<***>\n`,
      );
    }
  });

  it('redacts a secret that ends a chunk exactly, when it is the longest form', async () => {
    // GIVEN text whose first chunk ends with the secret's longest form (its hex)
    const redactor = new Redactor([ONE]);
    const hex = Buffer.from(ONE).toString('hex');
    expect(redactor.longest).toBe(hex.length);
    // WHEN streamed in two chunks: up to the end of the hex, and the rest
    // THEN the cut never falls inside it
    expect(await streamThrough(redactor, [`abc ${hex}`, ' def\n'])).toBe('abc *** def\n');
    expect(await streamThrough(redactor, [hex, ' tail\n'])).toBe('*** tail\n');
  });
});

describe('Redactor: keys and bytes', () => {
  it('redacts each line of a key with CRLF line ends, indented armour and trailing blanks', () => {
    // GIVEN a key as it may come out of a file written elsewhere
    const body1 = 'b3BlbnNzaC1rZXktdjEAAAAA';
    const body2 = 'QyNTUxOQAAACDd1e2f3g4h5';
    const key = `  -----BEGIN OPENSSH PRIVATE KEY-----\r\n${body1}  \r\n\t${body2}\r\n-----END OPENSSH PRIVATE KEY-----\r\n`;
    const redactor = new Redactor([key]);
    // WHEN its lines are printed trimmed, as a tool would
    // THEN each body line is redacted, and the armour lines are not (they would blank every key's header)
    expect(redactor.redact(`${body1}\n${body2}\n`)).toBe('***\n***\n');
    expect(redactor.redact('-----BEGIN OPENSSH PRIVATE KEY-----')).toBe(
      '-----BEGIN OPENSSH PRIVATE KEY-----',
    );
  });

  it('ends a stream cut inside a multi-byte character with a replacement character', async () => {
    // GIVEN a stream whose last byte starts a two-byte character
    // WHEN it ends / THEN the partial character comes out as U+FFFD rather than being dropped
    const out = await streamThrough(new Redactor(['some-secret-value']), [Buffer.from([0x61, 0xc3])]);
    expect(out).toBe('a\ufffd');
  });
});
