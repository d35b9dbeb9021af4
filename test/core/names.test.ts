import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { BranchNotAllowedError, InvalidInputError } from '../../src/core/errors.js';
import {
  parseBranchName,
  parseCommit,
  parseConfigPath,
  parseProjectName,
  quote,
  showName,
} from '../../src/core/names.js';
import { parseTriggerMessage } from '../../src/core/trigger-message.js';

function gitAcceptsBranch(name: string): boolean {
  try {
    // Outside any repository, so git answers on the name alone.
    execFileSync('git', ['check-ref-format', '--branch', name], { stdio: 'ignore', cwd: tmpdir() });
    return true;
  } catch {
    return false;
  }
}

// Names git itself decides on: our rule must agree with `git check-ref-format --branch` on each.
const GIT_CORPUS = [
  'main',
  'master',
  'release/1.0',
  'feature/a-b_c.d',
  'deps/bump-@types',
  'user@host',
  'x.lock.y',
  'a"quote',
  'ünïcödé',
  '',
  'a..b',
  'a//b',
  '/a',
  'a/',
  'a.',
  '.a',
  'a/.b',
  'a.lock',
  'a/b.lock',
  'a b',
  'a~1',
  'a^2',
  'a:b',
  'a?b',
  'a*b',
  'a[b',
  'a\\b',
  'a@{1}',
  'HEAD',
  '-x',
  '--upload-pack=touch /tmp/x',
  'a\tb',
  'a\u007fb',
];

describe('parseBranchName', () => {
  it.each(GIT_CORPUS)('agrees with git check-ref-format --branch on %j', (name) => {
    let ours: boolean;
    try {
      parseBranchName(name);
      ours = true;
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidInputError);
      ours = false;
    }
    expect(ours).toBe(gitAcceptsBranch(name));
  });

  it('accepts refs/heads/x as x', () => {
    expect(parseBranchName('refs/heads/release/2.0')).toBe('release/2.0');
  });

  it('refuses what git would take but we do not: over 255 bytes, invisible characters, @', () => {
    expect(gitAcceptsBranch('@')).toBe(true);
    expect(() => parseBranchName('@')).toThrow(/'@' is not a branch/);
    expect(() => parseBranchName('a'.repeat(256))).toThrow(/longer than 255 bytes/);
    expect(parseBranchName('a'.repeat(255))).toHaveLength(255);
    expect(() => parseBranchName('é'.repeat(128))).toThrow(/longer than 255 bytes/);
    expect(() => parseBranchName('main\u202Egnp.exe')).toThrow(/control or invisible/);
    expect(() => parseBranchName('ma\u200Bin')).toThrow(/control or invisible/);
    expect(() => parseBranchName('a\uD800b')).toThrow(/not valid Unicode/);
  });

  it('names the refused value on one line, escaped', () => {
    expect(() => parseBranchName('bad\nname')).toThrow(/^invalid branch name "bad\\nname": /);
  });

  it('refuses non-strings', () => {
    expect(() => parseBranchName(42)).toThrow(/empty/);
  });
});

describe('parseProjectName', () => {
  it.each(['demo', 'my-app.v2', 'A_b-9', 'x'.repeat(128)])('accepts %s', (name) => {
    expect(parseProjectName(name)).toBe(name);
  });

  it.each([
    '',
    '../x',
    'a/b',
    '_default',
    '_x',
    '.hidden',
    '..',
    '-rf',
    'x'.repeat(129),
    'dеmo', // Cyrillic е
    'a b',
    'a\0b',
    'a%2fb',
  ])('refuses %j', (name) => {
    expect(() => parseProjectName(name)).toThrow(InvalidInputError);
  });
});

describe('parseCommit', () => {
  it('accepts SHA-1 and SHA-256 ids', () => {
    expect(parseCommit('a'.repeat(40))).toBe('a'.repeat(40));
    expect(parseCommit('0'.repeat(64))).toBe('0'.repeat(64));
  });
  it.each(['A'.repeat(40), 'a'.repeat(39), 'a'.repeat(41), 'HEAD', 'g'.repeat(40), `${'a'.repeat(40)}\n`])(
    'refuses %j',
    (value) => {
      expect(() => parseCommit(value)).toThrow(/expected 40 or 64 lowercase hex/);
    },
  );
});

describe('parseConfigPath', () => {
  it('drops surrounding slashes', () => {
    expect(parseConfigPath('/iwomp-in-aws/')).toBe('iwomp-in-aws');
    expect(parseConfigPath('teams/iwomp')).toBe('teams/iwomp');
  });
  it.each(['', '/', 'a//b', 'a/../b', 'a b', 'a/./b'])('refuses %j', (value) => {
    expect(() => parseConfigPath(value)).toThrow(/invalid config path/);
  });
});

describe('refs/heads/ is stripped once', () => {
  it('refuses refs/heads/refs/heads/main instead of reading it as main', () => {
    // GIVEN a name that becomes `main` if the prefix is stripped at two layers
    // WHEN it is parsed / THEN it is refused, so no layer can turn it into another branch
    expect(() => parseBranchName('refs/heads/refs/heads/main')).toThrow(/must not start with 'refs\/'/);
    expect(() => parseBranchName('refs/heads/refs/tags/v1')).toThrow(/must not start with 'refs\/'/);
    expect(() => parseBranchName('refs/tags/v1')).toThrow(/must not start with 'refs\/'/);
  });

  it('is idempotent: parsing its own output gives the same name', () => {
    for (const value of ['refs/heads/main', 'main', 'refs/heads/release/1.0', 'heads/x']) {
      const once = parseBranchName(value);
      expect(parseBranchName(once)).toBe(once);
    }
  });

  it('strips it at the message parse, and the worker reads the result unchanged', () => {
    // GIVEN what the launcher hands the worker as GITBRANCH
    const { branch } = parseTriggerMessage('{"project":"demo","branch":"refs/heads/release/1.0"}');
    // THEN it is the short name, which the worker's parse keeps as is
    expect(branch).toBe('release/1.0');
    expect(parseBranchName(branch)).toBe('release/1.0');
    expect(() => parseTriggerMessage('{"project":"demo","branch":"refs/heads/refs/heads/main"}')).toThrow(
      /invalid branch name/,
    );
  });
});

describe('invisible and look-alike characters in branch names', () => {
  it.each([
    ['Hangul filler U+3164', 'release/\u3164'],
    ['Hangul choseong filler U+115F', 'release/\u115F'],
    ['halfwidth Hangul filler U+FFA0', 'release/\uFFA0'],
    ['no-break space U+00A0', 'release/\u00A0x'],
    ['ideographic space U+3000', 'release/\u3000'],
    ['braille blank U+2800', 'release/\u2800'],
    ['en quad U+2000', 'main\u2000'],
    ['narrow no-break space U+202F', 'ma\u202Fin'],
    ['line separator U+2028', 'main\u2028'],
    ['combining grapheme joiner U+034F', 'ma\u034Fin'],
    ['variation selector U+FE0F', 'main\uFE0F'],
    ['word joiner U+2060', 'ma\u2060in'],
    ['soft hyphen U+00AD', 'ma\u00ADin'],
    ['tag character U+E0041', 'main\u{E0041}'],
  ])('refuses %s', (_name, branch) => {
    // WHEN such a name is parsed / THEN it is refused with a reason
    expect(() => parseBranchName(branch)).toThrow(/whitespace, or a control or invisible character/);
  });

  it('shows a look-alike name escaped, so it cannot pass for another', () => {
    // GIVEN a name with a Cyrillic а (U+0430): valid, but it reads as "release/main"
    const branch = 'rele\u0430se/main';
    expect(parseBranchName(branch)).toBe(branch);
    // WHEN it is shown in a message / THEN the look-alike letter is an escape
    expect(quote(branch)).toBe('"rele\\u0430se/main"');
    expect(showName(branch)).toBe('"rele\\u0430se/main"');
    expect(showName('release/main')).toBe('release/main');
    expect(new BranchNotAllowedError('demo', branch, ['release/*']).message).toBe(
      "branch 'rele\\u0430se/main' may not deploy project 'demo' (allowed: release/*)",
    );
  });

  it('quote keeps a long value on one line and marks the cut', () => {
    expect(quote(`${'a'.repeat(80)}\u3164tail`)).toBe(`"${'a'.repeat(80)}…"`);
    expect(quote('x\u{1F600}')).toBe('"x\\u{1f600}"');
  });
});
