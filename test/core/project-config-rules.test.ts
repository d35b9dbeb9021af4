import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { parseDeployDir, parseProjectDocument, resolveProjectConfig } from '../../src/core/project-config.js';

const parse = (doc: unknown) => parseProjectDocument(JSON.stringify(doc), '/iwomp-in-aws/app');
const base = { gitUrl: 'https://git.example.com/app.git', command: './deploy.sh' };
const resolve = (doc: Record<string, unknown>) => resolveProjectConfig(undefined, parse({ ...base, ...doc }));

describe('authentication: one whole method, or none', () => {
  it('is none when no key is set, and each whole method otherwise', () => {
    // GIVEN the input named in the test's title / WHEN it is read / THEN:
    expect(resolve({}).auth).toEqual({ kind: 'none' });
    expect(resolve({ authToken: 'token-12345678' }).auth).toEqual({ kind: 'token', token: 'token-12345678' });
    expect(resolve({ sshPrivateKey: 'key-12345678', sshKnownHosts: 'host ssh-ed25519 AAAA' }).auth).toEqual({
      kind: 'ssh',
      privateKey: 'key-12345678',
      knownHosts: 'host ssh-ed25519 AAAA',
    });
  });

  it('refuses either half of basic or ssh alone', () => {
    // GIVEN the input named in the test's title / WHEN it is read / THEN:
    expect(() => resolve({ basicPassword: 'password-1234' })).toThrow(
      /^basicUsername and basicPassword must be set together$/,
    );
    expect(() => resolve({ sshKnownHosts: 'host ssh-ed25519 AAAA' })).toThrow(
      /^sshPrivateKey needs sshKnownHosts: the host key must be pinned$/,
    );
  });

  it('counts half a method as a method when two are mixed', () => {
    // GIVEN the input named in the test's title / WHEN it is read / THEN:
    expect(() => resolve({ authToken: 'token-12345678', basicPassword: 'password-1234' })).toThrow(
      /^use at most one authentication method, got authToken and basicUsername\/basicPassword$/,
    );
    expect(() => resolve({ basicUsername: 'ci', sshKnownHosts: 'h' })).toThrow(
      /^use at most one authentication method, got basicUsername\/basicPassword and sshPrivateKey\/sshKnownHosts$/,
    );
    expect(() => resolve({ authToken: 'token-12345678', sshPrivateKey: 'key-12345678' })).toThrow(
      /got authToken and sshPrivateKey\/sshKnownHosts$/,
    );
  });

  it('keeps branch rules only when the registry sets them', () => {
    // GIVEN the input named in the test's title / WHEN it is read / THEN:
    expect(resolve({})).not.toHaveProperty('branches');
    expect(resolve({ branches: ['main'] }).branches).toEqual(['main']);
  });
});

describe('parseDeployDir names each reason', () => {
  it.each([
    ['a\0b', 'deployDir "a\\u0000b" contains a NUL, backslash or control character'],
    ['a\\b', 'deployDir "a\\\\b" contains a NUL, backslash or control character'],
    ['a\tb', 'deployDir "a\\tb" contains a NUL, backslash or control character'],
    ['/etc', 'deployDir "/etc" must be relative to the repository root'],
    ['a/../b', `deployDir "a/../b" must not contain '..'`],
  ])('%j', (value, message) => {
    // GIVEN the input named in the test's title / WHEN it is read / THEN:
    expect(() => parseDeployDir(value)).toThrow(ConfigError);
    expect(() => parseDeployDir(value)).toThrow(message);
  });
});

describe('registry document errors', () => {
  it('say where, and where in the text, and list every issue', () => {
    // GIVEN the input named in the test's title / WHEN it is read / THEN:
    try {
      parseProjectDocument('{', '/iwomp-in-aws/app');
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toMatch(/^\/iwomp-in-aws\/app is not valid JSON: line 1, column 2: /);
    }
    expect(() => parse({ gitURL: 'x', comand: 'y' })).toThrow(
      /^\/iwomp-in-aws\/app: unknown keys gitURL, comand$/,
    );
    expect(() => parse({ gitUrl: 1, command: 2 })).toThrow(/^\/iwomp-in-aws\/app: gitUrl: .+; command: .+$/);
    expect(() => parse([])).toThrow(/^\/iwomp-in-aws\/app: Invalid input: expected object, received array$/);
  });
});
