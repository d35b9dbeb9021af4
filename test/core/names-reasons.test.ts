import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/core/errors.js';
import {
  parseBranchName,
  parseCommit,
  parseConfigPath,
  parseProjectName,
  quote,
} from '../../src/core/names.js';

/** The error a parse throws, for checking its field and whole message. */
function refusal(parse: () => unknown): InvalidInputError {
  try {
    parse();
  } catch (error) {
    if (error instanceof InvalidInputError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('names: each refusal names its field and reason', () => {
  it('project names', () => {
    // GIVEN an empty, a missing and a traversing project name
    // WHEN each is parsed
    // THEN each is refused as a project, for its own reason
    for (const value of ['', undefined, 7]) {
      const error = refusal(() => parseProjectName(value));
      expect([error.field, error.message]).toEqual(['project', 'project name is empty']);
    }
    const error = refusal(() => parseProjectName('../x'));
    expect([error.field, error.message]).toEqual([
      'project',
      `invalid project name "../x": use 1-128 of [A-Za-z0-9._-], not starting with '_', '.' or '-'`,
    ]);
  });

  it('branch names', () => {
    // GIVEN branch names refused at each step
    // WHEN each is parsed
    // THEN the field is the branch and the message says which rule
    for (const value of ['', undefined]) {
      const error = refusal(() => parseBranchName(value));
      expect([error.field, error.message]).toEqual(['branch', 'branch name is empty']);
    }
    expect(refusal(() => parseBranchName('a..b')).field).toBe('branch');
    expect(refusal(() => parseBranchName('refs/heads/')).message).toBe(
      'invalid branch name "refs/heads/": it is empty',
    );
    expect(refusal(() => parseBranchName('a'.repeat(256))).message).toMatch(
      /^invalid branch name "a{80}…": it is longer than 255 bytes$/,
    );
    expect(refusal(() => parseBranchName('--upload-pack=x')).message).toBe(
      `invalid branch name "--upload-pack=x": it starts with '-'`,
    );
    expect(parseBranchName('a'.repeat(255))).toBe('a'.repeat(255));
  });

  it('commits and config paths', () => {
    const commit = refusal(() => parseCommit(undefined));
    expect([commit.field, commit.message]).toEqual([
      'commit',
      'invalid commit undefined: expected 40 or 64 lowercase hex characters',
    ]);
    const path = refusal(() => parseConfigPath('a/../b'));
    expect([path.field, path.message]).toEqual([
      'configPath',
      `invalid config path "a/../b": use '/'-separated segments of [A-Za-z0-9_.-], without '.' or '..'`,
    ]);
  });

  it('config paths lose every surrounding slash, and only those', () => {
    expect(parseConfigPath('//teams/iwomp//')).toBe('teams/iwomp');
    expect(() => parseConfigPath('//')).toThrow(/invalid config path/);
  });
});

describe('quote', () => {
  it('shows untrusted text on one line, cut at 80 characters, with hidden characters escaped', () => {
    // GIVEN text with a line break, a bidi override, a zero-width space and a private-use
    // character beyond U+FFFF
    // WHEN it is quoted for a message
    // THEN everything that could hide or reorder text is shown as an escape
    expect(quote('a\nb')).toBe('"a\\nb"');
    expect(quote('main\u202Egnp')).toBe('"main\\u202egnp"');
    expect(quote('ma\u200Bin')).toBe('"ma\\u200bin"');
    expect(quote('x\u{F0000}y')).toBe('"x\\u{f0000}y"');
    expect(quote('\u{E000}')).toBe('"\\ue000"');
    expect(quote('\uFFFF')).toBe('"\\uffff"');
    expect(quote('x'.repeat(80))).toBe(`"${'x'.repeat(80)}"`);
    expect(quote('x'.repeat(81))).toBe(`"${'x'.repeat(80)}…"`);
    expect(quote(undefined)).toBe('undefined');
    expect(quote(42)).toBe('number');
    expect(quote(null)).toBe('object');
  });
});
