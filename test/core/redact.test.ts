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
    const basic = new Redactor(secretValues({ kind: 'basic', username: 'ci', password: 'pa55word!' }));
    const encoded = Buffer.from('ci:pa55word!').toString('base64');
    expect(basic.redact(`Authorization: Basic ${encoded}`)).toBe('Authorization: Basic ***');
  });
});
