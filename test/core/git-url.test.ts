import { describe, expect, it } from 'vitest';
import { assertTransportAllowed, parseGitUrl } from '../../src/core/git-url.js';

describe('parseGitUrl', () => {
  it.each([
    ['https://github.com/org/repo.git', 'https', 'github.com', false],
    ['http://127.0.0.1:8080/repo.git', 'http', '127.0.0.1', true],
    ['http://localhost/repo.git', 'http', 'localhost', true],
    ['ssh://git@github.com/org/repo.git', 'ssh', 'github.com', false],
    ['git@github.com:org/repo.git', 'ssh', 'github.com', false],
    ['gitlab.example.com:group/repo', 'ssh', 'gitlab.example.com', false],
  ] as const)('reads %s', (url, transport, host, loopback) => {
    expect(parseGitUrl(url)).toMatchObject({ url, transport, host, loopback });
  });

  it('reads local paths and file URLs as the file transport', () => {
    expect(parseGitUrl('file:///srv/repo.git').transport).toBe('file');
    expect(parseGitUrl('/srv/repo.git').transport).toBe('file');
  });

  it('refuses credentials in the URL and points at authToken', () => {
    expect(() => parseGitUrl('https://user:pw@github.com/org/repo')).toThrow(/put a token in authToken/);
    expect(() => parseGitUrl('https://ghp_token@github.com/org/repo')).toThrow(/authToken/);
    expect(() => parseGitUrl('ssh://git:pw@host/repo')).toThrow(/sshPrivateKey/);
  });

  it.each([
    '-uhttps://x',
    'ext::sh -c touch% /tmp/pwned',
    'fd::17',
    'git://github.com/org/repo',
    'ftp://host/repo',
    'ssh://-oProxyCommand=touch%20x/repo',
    '-oProxyCommand=x:repo',
    'https://host/repo with space',
    'https://host/repo\n',
    'not a url',
    '',
  ])('refuses %j', (url) => {
    expect(() => parseGitUrl(url)).toThrow();
  });
});

describe('assertTransportAllowed', () => {
  it('allows file:// and remote http:// only in local runs, loopback http:// always', () => {
    const remote = { local: false };
    expect(() => assertTransportAllowed(parseGitUrl('file:///srv/r'), remote)).toThrow(/only in local mode/);
    expect(() => assertTransportAllowed(parseGitUrl('http://example.com/r'), remote)).toThrow(/use https/);
    expect(() => assertTransportAllowed(parseGitUrl('http://127.0.0.1:9/r'), remote)).not.toThrow();
    expect(() => assertTransportAllowed(parseGitUrl('file:///srv/r'), { local: true })).not.toThrow();
    expect(() => assertTransportAllowed(parseGitUrl('http://example.com/r'), { local: true })).not.toThrow();
  });
});
