import { describe, expect, it } from 'vitest';
import {
  assertBranchAllowed,
  assertBranchPatterns,
  branchPatternProblem,
  isBranchAllowed,
} from '../../src/core/branch-policy.js';
import { BranchNotAllowedError, ConfigError } from '../../src/core/errors.js';
import { parseProjectDocument } from '../../src/core/project-config.js';

describe('isBranchAllowed', () => {
  it('allows every branch when the project has no rules', () => {
    expect(isBranchAllowed('anything/at/all', undefined)).toBe(true);
  });

  it('allows nothing with an empty list', () => {
    expect(isBranchAllowed('main', [])).toBe(false);
  });

  it.each([
    // GIVEN a pattern and a branch / WHEN matched / THEN allowed exactly when expected
    ['main', 'main', true],
    ['main', 'MAIN', false],
    ['main', 'main2', false],
    ['main', 'xmain', false],
    ['main', 'main/x', false],
    ['release/*', 'release/1.0', true],
    ['release/*', 'release/', false],
    ['release/*', 'release', false],
    ['release/*', 'release/1.0/evil', false],
    ['release/*', 'releases/1.0', false],
    ['release/*', 'x/release/1.0', false],
    ['release/*', 'release/.hidden', true],
    ['v*', 'v', true],
    ['v*', 'v1.2', true],
    ['v*', 'v1/2', false],
    ['*-hotfix', 'prod-hotfix', true],
    ['*-hotfix', 'prod-hotfix-2', false],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'axxbyyc', true],
    ['a*b*c', 'axxcyyb', false],
    ['a*a', 'a', false],
    ['a*a', 'aa', true],
    ['*', 'main', true],
    ['*', 'feature/x', false],
    ['**', 'main', true],
    ['**', 'feature/x/y', true],
    ['release/**', 'release/1', true],
    ['release/**', 'release/1/2/3', true],
    ['release/**', 'release', false],
    ['release/**', 'releases/1', false],
    ['**/hotfix', 'hotfix', true],
    ['**/hotfix', 'a/b/hotfix', true],
    ['**/hotfix', 'a/hotfix/b', false],
    ['**/hotfix', 'a/xhotfix', false],
    ['team/**/deploy', 'team/deploy', true],
    ['team/**/deploy', 'team/a/b/deploy', true],
    ['team/**/deploy', 'team/a/b/deploy/x', false],
    ['team/**/deploy', 'other/a/deploy', false],
    ['a/**/b/**/c', 'a/x/b/y/z/c', true],
    ['a/**/b/**/c', 'a/c', false],
    // Characters other globbers treat specially are plain here
    ['feat/a+b', 'feat/a+b', true],
    ['feat/a+b', 'feat/aab', false],
    ['feat/a|b', 'feat/a', false],
    ['feat/a.b', 'feat/axb', false],
    ['feat/$x', 'feat/$x', true],
    ['feat/^x', 'feat/x', false],
  ])('%s against %s: %s', (pattern, branch, allowed) => {
    expect(isBranchAllowed(branch, [pattern])).toBe(allowed);
  });

  it('only allows: a "!" pattern never allows anything, and never excludes', () => {
    // GIVEN a negation, which this pipeline does not support
    // THEN it allows neither the branch it names nor any other
    expect(isBranchAllowed('evil', ['!main'])).toBe(false);
    expect(isBranchAllowed('main', ['!main'])).toBe(false);
    expect(isBranchAllowed('main', ['main', '!main'])).toBe(true);
  });

  it.each([
    ['a(b|c)', 'ab'],
    ['v{1..3}', 'v2'],
    ['{main,dev}', 'dev'],
    ['@(main|dev)', 'dev'],
    ['+(a)', 'aa'],
    ['!(main)', 'dev'],
    ['ma?n', 'main'],
    ['[m]ain', 'main'],
    ['ma\\in', 'main'],
  ])('gives %s no meaning: it does not match %s', (pattern, branch) => {
    expect(isBranchAllowed(branch, [pattern])).toBe(false);
  });

  it('stays fast with many ** against a long branch', () => {
    const pattern = Array.from({ length: 20 }, () => '**/a').join('/');
    const branch = `${'a/'.repeat(100)}b`;
    const started = performance.now();
    expect(isBranchAllowed(branch, [pattern])).toBe(false);
    expect(performance.now() - started).toBeLessThan(500);
  });
});

describe('branch patterns are checked when a document is parsed', () => {
  it.each([
    ['a(b|c)', /uses '\('/],
    ['v{1..3}', /uses '\{'/],
    ['@(main|dev)', /uses '\('/],
    ['release/[0-9]', /uses '\['/],
    ['ma?n', /uses '\?'/],
    ['!main', /negates/],
    ['a\\b', /uses '\\'/],
    ['release**', /inside a segment/],
    ['**/**/x', /repeats/],
    ['release/', /can never match a branch: it has an empty '\/' component/],
    ['a b', /can never match/],
    ['release/\u3164', /can never match/],
    ['refs/heads/main', /can never match.*refs\//],
    ['a..b', /can never match/],
  ])('refuses %j', (pattern, reason) => {
    // WHEN a document with the pattern is parsed / THEN it is a ConfigError naming the pattern
    expect(branchPatternProblem(pattern)).toMatch(reason);
    expect(() => assertBranchPatterns([pattern])).toThrow(ConfigError);
    const parse = () =>
      parseProjectDocument(JSON.stringify({ branches: ['main', pattern] }), '/iwomp-in-aws/demo');
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(/^\/iwomp-in-aws\/demo: branches\.1: /);
    expect(parse).toThrow(reason);
  });

  it.each(['main', 'release/*', 'release/**', '**', '**/hotfix', 'a/**/b', 'v*.*', 'feat/a+b', 'x@y'])(
    'accepts %j',
    (pattern) => {
      expect(branchPatternProblem(pattern)).toBeUndefined();
      expect(parseProjectDocument(JSON.stringify({ branches: [pattern] }), 'doc').branches).toEqual([
        pattern,
      ]);
    },
  );
});

describe('assertBranchAllowed', () => {
  it('throws BranchNotAllowedError naming the branch and the rules', () => {
    expect(() => assertBranchAllowed('demo', 'release/1.0/evil', ['main', 'release/*'])).toThrow(
      BranchNotAllowedError,
    );
    expect(() => assertBranchAllowed('demo', 'release/1.0/evil', ['main', 'release/*'])).toThrow(
      "branch 'release/1.0/evil' may not deploy project 'demo' (allowed: main, release/*)",
    );
    expect(() => assertBranchAllowed('demo', 'release/1.0', ['main', 'release/*'])).not.toThrow();
  });
});
