import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { Redactor, secretValues } from '../../src/core/redact.js';

const SECRET = 's3cr3t-token-value';

async function streamThrough(redactor: Redactor, chunks: string[]): Promise<string> {
  return text(Readable.from(chunks.map((c) => Buffer.from(c))).pipe(redactor.stream()));
}

describe('Redactor', () => {
  it('replaces every occurrence', () => {
    expect(new Redactor([SECRET]).redact(`a ${SECRET} b ${SECRET}`)).toBe('a *** b ***');
  });

  it('redacts a secret split across every possible chunk boundary', async () => {
    const redactor = new Redactor([SECRET]);
    const line = `before ${SECRET} after\n`;
    for (let cut = 1; cut < line.length; cut++) {
      const out = await streamThrough(redactor, [line.slice(0, cut), line.slice(cut)]);
      expect(out).toBe('before *** after\n');
    }
  });

  it('redacts a secret delivered one byte at a time', async () => {
    const out = await streamThrough(new Redactor([SECRET]), [...`x${SECRET}y`]);
    expect(out).toBe('x***y');
  });

  it('redacts a secret that ends the stream with no newline, shorter than another secret', async () => {
    // GIVEN a redactor whose longest secret is longer than the one printed last: the short one
    // sits whole in the held-back tail when the stream ends
    const redactor = new Redactor(['short-secret-1', 'a-much-longer-secret-value-2']);
    // WHEN it is the last thing written, in one chunk or byte by byte
    const whole = await streamThrough(redactor, ['deployed with short-secret-1']);
    const bytes = await streamThrough(redactor, [...'deployed with short-secret-1']);
    // THEN the end of the stream is redacted too
    expect(whole).toBe('deployed with ***');
    expect(bytes).toBe('deployed with ***');
  });

  it('replaces a secret that contains another whole, whatever order they are given in', () => {
    // GIVEN two secrets, one a prefix of the other
    const short = 'abcdefgh12';
    const long = 'abcdefgh12345678';
    // WHEN text holding the longer one is redacted
    // THEN none of it is left, not even the part after the shorter one
    expect(new Redactor([short, long]).redact(`x ${long} y`)).toBe('x *** y');
    expect(new Redactor([long, short]).redact(`x ${long} y ${short}`)).toBe('x *** y ***');
  });

  it('redacts secrets of 8 characters or more, and leaves shorter fragments alone', () => {
    // GIVEN an 8-character secret and a 7-character fragment (too short to redact: it would blank words)
    const redactor = new Redactor(['12345678', 'abcdefg']);
    // WHEN text holding both is redacted
    // THEN only the first is replaced
    expect(redactor.redact('a 12345678 abcdefg')).toBe('a *** abcdefg');
  });

  it('passes everything through, at once, when there is no secret', async () => {
    // GIVEN a redactor without secrets (a project without credentials)
    const redactor = new Redactor([]);
    // WHEN text passes through it
    // THEN nothing is changed or held back
    expect(redactor.redact('anything at all')).toBe('anything at all');
    expect(redactor.safeCut('no newline here')).toBe('no newline here'.length);
    expect(await streamThrough(redactor, ['a', 'b'])).toBe('ab');
  });

  it('holds back only what could be the start of a secret', () => {
    // GIVEN a secret whose longest form (an encoding of it) has `longest` characters
    const redactor = new Redactor([SECRET]);
    const hold = redactor.longest - 1;
    // WHEN a cut is chosen in text without a secret
    // THEN everything but the last `longest - 1` characters goes out, or up to a later line break
    expect(redactor.safeCut('x'.repeat(100))).toBe(100 - hold);
    expect(redactor.safeCut(`${'a'.repeat(11)}\n${'b'.repeat(hold - 1)}`)).toBe(12);
    expect(redactor.safeCut('short')).toBe(0);
    // AND a secret is never cut through
    const text = `${'x'.repeat(30)}${SECRET}${'y'.repeat(40)}`;
    const cut = redactor.safeCut(text);
    expect(cut <= 30 || cut >= 30 + SECRET.length).toBe(true);
  });

  it('gives the same text streamed in any chunks as redacted whole', async () => {
    // GIVEN text with secrets next to each other, inside others' look-alikes, and across lines
    const other = 'second-secret-99';
    const redactor = new Redactor([SECRET, other]);
    const text = `a${SECRET}${other}\ns3cr3t-token-valu ${SECRET.slice(0, 10)}\n${other}${SECRET}`;
    // WHEN it is streamed in chunks of every size from 1 to 12
    for (let size = 1; size <= 12; size++) {
      const chunks = text.match(new RegExp(`[\\s\\S]{1,${size}}`, 'g')) ?? [];
      // THEN the output is the whole text redacted
      expect(await streamThrough(redactor, chunks)).toBe(redactor.redact(text));
    }
    expect(redactor.redact(text)).not.toContain(SECRET);
  });

  it('passes complete lines through at once (live output)', () => {
    const redactor = new Redactor([SECRET]);
    expect(redactor.safeCut('line one\nline tw')).toBeGreaterThanOrEqual('line one\n'.length);
  });

  it('keeps multi-byte characters intact across chunks', async () => {
    const bytes = Buffer.from('ü €');
    const out = await text(
      Readable.from([bytes.subarray(0, 1), bytes.subarray(1, 4), bytes.subarray(4)]).pipe(
        new Redactor([SECRET]).stream(),
      ),
    );
    expect(out).toBe('ü €');
  });

  it('redacts each line of a multi-line key and the encoded basic credentials', () => {
    const key =
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nQyNTUxOQAAACDd1e2f3g4h5\n-----END OPENSSH PRIVATE KEY-----';
    const redactor = new Redactor(secretValues({ kind: 'ssh', privateKey: key, knownHosts: 'h' }));
    expect(redactor.redact(key)).toBe(
      '-----BEGIN OPENSSH PRIVATE KEY-----\n***\n***\n-----END OPENSSH PRIVATE KEY-----',
    );
    expect(secretValues({ kind: 'none' })).toEqual([]);
    expect(secretValues({ kind: 'token', token: 'tok-12345678' })).toEqual(['tok-12345678']);
    const basic = new Redactor(secretValues({ kind: 'basic', username: 'ci', password: 'pa55word!' }));
    const encoded = Buffer.from('ci:pa55word!').toString('base64');
    expect(basic.redact(`Authorization: Basic ${encoded}`)).toBe('Authorization: Basic ***');
  });
});

describe('Redactor: encoded forms', () => {
  // A secret with characters every encoding treats specially.
  const TOKEN = 'ghp_R3d/act+me"\\é!x=y';
  const redactor = new Redactor([TOKEN]);
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

  it.each([
    ['raw', TOKEN],
    ['base64', b64(TOKEN)],
    ['base64url', Buffer.from(TOKEN).toString('base64url')],
    ['hex', Buffer.from(TOKEN).toString('hex')],
    ['HEX', Buffer.from(TOKEN).toString('hex').toUpperCase()],
    ['encodeURIComponent', encodeURIComponent(TOKEN)],
    [
      'percent-encoding, lower-case hex',
      encodeURIComponent(TOKEN).replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()),
    ],
    ['RFC 3986 percent-encoding', encodeURIComponent(TOKEN).replace('!', '%21')],
    ['JSON-escaped', JSON.stringify(TOKEN).slice(1, -1)],
    ['JSON-escaped with \\/', JSON.stringify(TOKEN).slice(1, -1).replace('/', '\\/')],
    ['JSON-escaped, ASCII only', JSON.stringify(TOKEN).slice(1, -1).replace('é', '\\u00e9')],
    ['inside a JSON document', JSON.stringify({ token: TOKEN })],
  ])('redacts the %s form', (_name, form) => {
    // GIVEN output holding the secret in that form / WHEN redacted / THEN the form is gone
    const out = redactor.redact(`before ${form} after`);
    expect(out).toContain('***');
    expect(out).not.toContain(form);
    expect(out).toMatch(/^before .*after$/);
  });

  it.each(['', 'a', 'ab', 'x-access-token:', 'Basic user:'])(
    'redacts the secret inside a longer base64 stream, after %j',
    (prefix) => {
      // GIVEN base64 of a longer text that contains the token at any alignment
      const encoded = b64(`${prefix}${TOKEN} and more`);
      // WHEN redacted / THEN no run of characters that encodes the token is left
      const out = redactor.redact(encoded);
      expect(out).toContain('***');
      const left = Buffer.from(out.replace('***', ''), 'base64').toString('latin1');
      expect(left).not.toContain('R3d/act');
    },
  );

  it('redacts basic credentials as git sends them, and each half of a key', () => {
    const basic = new Redactor(secretValues({ kind: 'basic', username: 'ci-user', password: 'pa55word!x' }));
    expect(basic.redact(`Authorization: Basic ${b64('ci-user:pa55word!x')}`)).toBe(
      'Authorization: Basic ***',
    );
    expect(basic.redact(`u=${encodeURIComponent('ci-user:pa55word!x')}`)).toBe('u=***');
  });
});

describe('Redactor.streams: stdout and stderr redacted as one', () => {
  const SECRET2 = 'split-secret-0123456789';

  /** Feeds writes [stream, text] in order; returns each stream's output and the merged output in emission order. */
  async function group(writes: Array<[number, string]>): Promise<{ each: string[]; merged: string }> {
    const members = new Redactor([SECRET2]).streams(2);
    const each = ['', ''];
    let merged = '';
    for (const [i, member] of members.entries()) {
      member.on('data', (chunk: Buffer | string) => {
        each[i] += chunk.toString();
        merged += chunk.toString();
      });
    }
    const ended = members.map((m) => new Promise((resolve) => m.on('end', resolve)));
    for (const [stream, text] of writes) {
      members[stream]?.write(Buffer.from(text));
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (const member of members) member.end();
    await Promise.all(ended);
    return { each, merged };
  }

  it('redacts a secret whose halves go to stdout and stderr, in the merged log', async () => {
    // GIVEN a command printing half the secret on stdout and the rest on stderr, at every split
    for (let cut = 1; cut < SECRET2.length; cut++) {
      const { each, merged } = await group([
        [0, `out: ${SECRET2.slice(0, cut)}`],
        [1, `${SECRET2.slice(cut)} :err\n`],
        [0, ' done\n'],
      ]);
      // THEN neither the merged log nor either stream holds it
      expect(merged).not.toContain(SECRET2);
      expect(each.join('')).not.toContain(SECRET2);
      expect(merged).toContain('***');
      expect(merged).toContain('out: ');
      expect(merged).toContain(':err\n');
    }
  });

  it('still redacts a secret within one stream that the other interrupts', async () => {
    const { each } = await group([
      [1, SECRET2.slice(0, 10)],
      [0, 'progress line\n'],
      [1, `${SECRET2.slice(10)}\n`],
    ]);
    expect(each[1]).not.toContain(SECRET2);
    expect(each[1]).toBe('***\n');
    expect(each[0]).toBe('progress line\n');
  });

  it('keeps the order of output across the streams', async () => {
    const { merged } = await group([
      [0, 'one\n'],
      [1, 'two\n'],
      [0, 'three\n'],
    ]);
    expect(merged).toBe('one\ntwo\nthree\n');
  });

  it('holds a bounded amount: one stream flooding while the other holds a partial secret', async () => {
    // GIVEN stderr holding the start of a secret and stdout writing 1 MiB without line breaks
    const members = new Redactor([SECRET2]).streams(2);
    let outSoFar = 0;
    members[0]?.on('data', (chunk: Buffer) => {
      outSoFar += chunk.length;
    });
    members[1]?.on('data', () => {});
    members[1]?.write(SECRET2.slice(0, 10));
    const block = 'x'.repeat(1024);
    for (let i = 0; i < 1024; i++) members[0]?.write(block);
    await new Promise((resolve) => setImmediate(resolve));
    // THEN nearly all of stdout has gone out already: at most 64 KiB and a secret are held
    expect(outSoFar).toBeGreaterThan(1024 * 1024 - 64 * 1024 - SECRET2.length);
  });
});
