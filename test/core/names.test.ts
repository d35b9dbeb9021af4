import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/core/errors.js';
import { parseBranchName, parseCommit, parseConfigPath, parseProjectName } from '../../src/core/names.js';

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
