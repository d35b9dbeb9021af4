/**
 * Redactor.streams (stdout and stderr redacted as one), compared with whole-text redaction over
 * many seeded interleavings, and the cases where one stream ends before the other.
 */
import type { Transform } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { encodedForms, Redactor } from '../../src/core/redact.js';

const SECRET = 'split-secret-0123456789';
const OTHER = 'other/secret+value';

/** A small seeded generator (mulberry32): the same interleavings on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Run {
  readonly members: Transform[];
  readonly each: string[];
  /** Everything emitted, in emission order: what a log merging the streams shows. */
  merged(): string;
  readonly ended: Promise<unknown>[];
}

function start(redactor: Redactor): Run {
  const members = redactor.streams(2);
  const each = ['', ''];
  const parts: string[] = [];
  for (const [i, member] of members.entries()) {
    member.on('data', (chunk: Buffer) => {
      each[i] += chunk.toString();
      parts.push(chunk.toString());
    });
  }
  const ended = members.map((m) => new Promise((resolve) => m.on('end', resolve)));
  return { members, each, merged: () => parts.join(''), ended };
}

/** Adjacent secrets may be redacted in separate releases: `******` for `***`, nothing shown either way. */
const runs = (text: string) => text.replace(/(\*\*\*)+/g, '***');

const tick = () => new Promise((resolve) => setImmediate(resolve));

async function feed(run: Run, writes: ReadonlyArray<readonly [number, string]>): Promise<void> {
  for (const [stream, text] of writes) {
    run.members[stream]?.write(Buffer.from(text));
    await tick();
  }
  for (const member of run.members) member.end();
  await Promise.all(run.ended);
}

/** `text` cut into chunks of 1 to `max` characters. */
function chunks(text: string, next: () => number, max: number): string[] {
  const out: string[] = [];
  for (let at = 0; at < text.length; ) {
    const size = 1 + Math.floor(next() * max);
    out.push(text.slice(at, at + size));
    at += size;
  }
  return out;
}

/** Text of words, line breaks, and the secrets in several of their forms. */
function sample(next: () => number, words: number): string {
  const parts = [
    'alpha ',
    'beta\n',
    'gamma-',
    SECRET,
    OTHER,
    ...encodedForms(SECRET).slice(0, 6),
    encodedForms(OTHER)[0] ?? '',
  ];
  let text = '';
  for (let i = 0; i < words; i++) text += parts[Math.floor(next() * parts.length)];
  return text;
}

describe('Redactor.streams against whole-text redaction', () => {
  it('gives each stream its own text redacted, whatever the other writes between its chunks', async () => {
    for (let seed = 1; seed <= 40; seed++) {
      // GIVEN stderr carrying secrets in several forms, and stdout carrying text that cannot be
      // part of any (`#` and line breaks), written in random chunks, in a random order
      const next = random(seed);
      const redactor = new Redactor([SECRET, OTHER]);
      const err = sample(next, 12);
      const out = Array.from({ length: 30 }, () => (next() < 0.2 ? '\n' : '#')).join('');
      const pending: Array<[number, string[]]> = [
        [0, chunks(out, next, 6)],
        [1, chunks(err, next, 9)],
      ];
      const writes: Array<[number, string]> = [];
      while (pending.some(([, c]) => c.length > 0)) {
        const open = pending.filter(([, c]) => c.length > 0);
        const [stream, left] = open[Math.floor(next() * open.length)] ?? [0, []];
        writes.push([stream, left.shift() ?? '']);
      }
      // WHEN the writes go through the group
      const run = start(redactor);
      await feed(run, writes);
      // THEN each stream's output is its own text redacted whole, and the merged log holds no secret
      expect(runs(run.each[1] ?? ''), `seed ${seed}`).toBe(runs(redactor.redact(err)));
      expect(run.each[0], `seed ${seed}`).toBe(out);
      expect(redactor.redact(run.merged()), `seed ${seed}`).toBe(run.merged());
    }
  });

  it('redacts one text dealt out between the two streams in random pieces, as the merged log shows it', async () => {
    for (let seed = 1; seed <= 40; seed++) {
      // GIVEN one text (as a terminal would show it) whose consecutive pieces go to either stream
      const next = random(1000 + seed);
      const redactor = new Redactor([SECRET, OTHER]);
      const text = sample(next, 10);
      const writes = chunks(text, next, 8).map((piece): [number, string] => [next() < 0.5 ? 0 : 1, piece]);
      // WHEN they go through the group
      const run = start(redactor);
      await feed(run, writes);
      // THEN the merged log is the text redacted whole: no secret, nothing else lost or added
      expect(runs(run.merged()), `seed ${seed}`).toBe(runs(redactor.redact(text)));
    }
  });
});

describe('Redactor.streams: exact output across streams', () => {
  it('redacts overlapping secrets split between the streams at every point', async () => {
    // GIVEN a line with two overlapping secrets ("first-secret-1111" + "1111-overlapping-…"),
    // its start written to stdout and the rest to stderr, cut at every point
    const one = 'first-secret-1111';
    const longer = '1111-overlapping-longer-piece';
    const redactor = new Redactor([one, longer]);
    const line = `${'x'.repeat(40)}<${one}${longer.slice(4)}>${'y'.repeat(40)}\n`;
    for (let cut = 1; cut < line.length; cut++) {
      // WHEN
      const run = start(redactor);
      await feed(run, [
        [0, line.slice(0, cut)],
        [1, line.slice(cut)],
      ]);
      // THEN the merged log shows both as one REDACTED, and no part of either
      expect(runs(run.merged()), `cut ${cut}`).toBe(`${'x'.repeat(40)}<***>${'y'.repeat(40)}\n`);
    }
  });

  it('shows a secret split between the streams once, where it starts', async () => {
    // GIVEN a secret whose first half goes to stdout and the rest to stderr
    for (const cut of [1, 8, SECRET.length - 1]) {
      const run = start(new Redactor([SECRET]));
      // WHEN
      await feed(run, [
        [0, `out: ${SECRET.slice(0, cut)}`],
        [1, `${SECRET.slice(cut)} :err\n`],
        [0, ' done\n'],
      ]);
      // THEN one REDACTED, on the stream that began it; the other shows none of the secret
      expect(run.each).toEqual(['out: *** done\n', ' :err\n']);
      // AND the merged log keeps the order in which the parts were written
      expect(run.merged()).toBe('out: *** :err\n done\n');
    }
  });

  it('redacts a secret within one stream that the other interrupts twice', async () => {
    const run = start(new Redactor([SECRET]));
    await feed(run, [
      [1, `e:${SECRET.slice(0, 6)}`],
      [0, 'one\n'],
      [1, SECRET.slice(6, 12)],
      [0, 'two\n'],
      [1, `${SECRET.slice(12)}:e\n`],
    ]);
    expect(run.each).toEqual(['one\ntwo\n', 'e:***:e\n']);
    expect(run.merged()).toBe('e:***one\ntwo\n:e\n');
  });
});

describe('Redactor.streams: one stream ends first', () => {
  it('redacts overlapping secrets in one stream’s own text when the other interrupts the longer one', async () => {
    // GIVEN overlapping secrets, all on stdout, with stderr writing (and ending) inside the longer one
    const one = 'first-secret-1111';
    const longer = '1111-overlapping-longer-piece';
    const redactor = new Redactor([one, longer]);
    const head = `${'x'.repeat(40)}<${one}${longer.slice(4)}`;
    const oneEnd = 41 + one.length;
    for (let p = oneEnd + 1; p < head.length; p++) {
      // stdout's held-back tail starts between the interruption and the longer secret's end
      const tail = 'y'.repeat(Math.floor((p + head.length) / 2) + redactor.longest - 1 - head.length - 1);
      const line = `${head}>${tail}`;
      // WHEN stdout writes up to p, stderr writes "#" and ends, stdout writes the rest
      const run = start(redactor);
      run.members[0]?.write(line.slice(0, p));
      await tick();
      run.members[1]?.end('#');
      await tick();
      run.members[0]?.write(line.slice(p));
      await tick();
      run.members[0]?.end();
      await Promise.all(run.ended);
      // THEN stdout shows neither secret, in part or whole
      expect(runs(run.each[0] ?? ''), `p ${p}`).toBe(`${'x'.repeat(40)}<***>${tail}`);
    }
  });

  it('redacts overlapping secrets that the ended stream’s text runs through', async () => {
    // GIVEN overlapping secrets ("first-secret-1111" + "1111-overlapping-…"), each split between
    // the streams: stdout has the start of the first, stderr (then ended) the middle, stdout the rest
    const one = 'first-secret-1111';
    const longer = '1111-overlapping-longer-piece';
    const redactor = new Redactor([one, longer]);
    const head = `${'x'.repeat(40)}<${one}${longer.slice(4)}`;
    const oneEnd = 41 + one.length;
    // stdout's held-back tail then starts inside the longer secret, after the first one's end
    const tail = 'y'.repeat(redactor.longest - 1 - Math.floor((head.length - oneEnd) / 2));
    const line = `${head}>${tail}`;
    for (let p = 42; p < oneEnd; p++) {
      for (let q = oneEnd + 1; q < head.length; q++) {
        // WHEN stdout writes up to p, stderr from p to q and ends, stdout the rest
        const run = start(redactor);
        run.members[0]?.write(line.slice(0, p));
        await tick();
        run.members[1]?.end(line.slice(p, q));
        await tick();
        run.members[0]?.write(line.slice(q));
        await tick();
        run.members[0]?.end();
        await Promise.all(run.ended);
        // THEN neither secret shows, in part or whole
        expect(runs(run.merged()), `p ${p} q ${q}`).toBe(`${'x'.repeat(40)}<***>${tail}`);
      }
    }
  });

  it('keeps holding the other stream’s partial secret', async () => {
    // GIVEN stderr holding the start of a secret
    const run = start(new Redactor([SECRET]));
    run.members[1]?.write(`e:${SECRET.slice(0, 10)}`);
    await tick();
    // WHEN stdout ends
    run.members[0]?.end();
    await run.ended[0];
    await tick();
    // THEN none of the partial secret has gone out; the rest of it completes it, and it is redacted
    expect(run.each[1]).not.toContain(SECRET.slice(0, 10));
    run.members[1]?.write(`${SECRET.slice(10)}\n`);
    run.members[1]?.end();
    await run.ended[1];
    expect(run.each[1]).toBe('e:***\n');
  });

  it('ends a stream only once all its text is out, and lets it out with the other stream’s next line', async () => {
    // GIVEN stderr holding a short tail, then stdout writing a tail that could start a secret, and ending
    const run = start(new Redactor([SECRET]));
    let outEndedWith: string | undefined;
    run.members[0]?.on('end', () => {
      outEndedWith = run.each[0];
    });
    run.members[1]?.write('err: ');
    await tick();
    run.members[0]?.write(`out: ${SECRET.slice(0, 10)}`);
    run.members[0]?.end();
    await tick();
    // THEN stdout has not ended yet: its text waits behind stderr's, in order
    expect(outEndedWith).toBeUndefined();
    // WHEN stderr completes a line (stderr stays open)
    run.members[1]?.write('a complete line\n');
    await run.ended[0];
    await tick();
    // THEN both go out at once (stdout ended: its tail can no longer grow into a secret), and
    // stdout ended with all of its text
    expect(outEndedWith).toBe(`out: ${SECRET.slice(0, 10)}`);
    expect(run.each[1]).toBe('err: a complete line\n');
    run.members[1]?.end();
    await run.ended[1];
  });

  it('lets out whole lines of a stream whose earlier text waited behind the other', async () => {
    // GIVEN stderr's short start held, stdout's line behind it, then stderr completing a line and
    // starting another
    const run = start(new Redactor([SECRET]));
    for (const [stream, text] of [
      [1, 'err: '],
      [0, 'out\n'],
      [1, 'line\nmore'],
    ] as const) {
      run.members[stream]?.write(text);
      await tick();
    }
    // THEN everything up to stderr's last line break is out already, in order; only "more" waits
    expect(run.merged()).toBe('err: out\nline\n');
    for (const member of run.members) member.end();
    await Promise.all(run.ended);
    expect(run.each).toEqual(['out\n', 'err: line\nmore']);
  });

  it('lets out a stream’s safe text at once when the other stream’s line waits behind it', async () => {
    // GIVEN stderr's short start, stdout's line behind it, and stderr completing its line
    const run = start(new Redactor([SECRET]));
    for (const [stream, text] of [
      [1, 'a'],
      [0, 'line\n'],
      [1, 'b\n'],
    ] as const) {
      run.members[stream]?.write(text);
      await tick();
    }
    // THEN all of it is out before either ends
    expect(run.merged()).toBe('aline\nb\n');
    for (const member of run.members) member.end();
    await Promise.all(run.ended);
  });

  it('passes complete lines of both streams through at once, before either ends', async () => {
    // GIVEN both streams writing whole lines, alternately
    const run = start(new Redactor([SECRET]));
    for (const [stream, text] of [
      [0, 'one\n'],
      [1, 'two\n'],
      [0, 'three\n'],
      [1, `four ${SECRET}\n`],
    ] as const) {
      run.members[stream]?.write(text);
      await tick();
    }
    // THEN all of it is out already, in order, redacted
    expect(run.merged()).toBe('one\ntwo\nthree\nfour ***\n');
    for (const member of run.members) member.end();
    await Promise.all(run.ended);
  });
});
