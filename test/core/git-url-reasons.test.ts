import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { assertTransportAllowed, parseGitUrl } from '../../src/core/git-url.js';

// Each refusal for its own reason: a check that stopped working would otherwise hide behind a
// later one that happens to refuse the same URL with another message.
describe('parseGitUrl refuses, naming the reason', () => {
  it.each([
    ['', /^gitUrl is empty$/],
    [
      'https://host/repo with space',
      /^gitUrl "https:\/\/host\/repo with space" contains whitespace or control/,
    ],
    ['-oProxyCommand=x:repo', /^gitUrl "-oProxyCommand=x:repo" starts with '-'$/],
    ['--upload-pack=x', /starts with '-'/],
    ['https://[::1', /^gitUrl "https:\/\/\[::1" has an invalid host or port "\[::1"$/],
    ['FILE:///srv/repo.git', /^gitUrl "FILE:\/\/\/srv\/repo.git" has an upper-case scheme: write file:\/\/$/],
    ['HTTPS://GitHub.com/org/repo.git', /has an upper-case scheme: write https:\/\/$/],
    ['https://user@github.com/org/repo', /must not embed credentials/],
    ['https://:pw@github.com/org/repo', /must not embed credentials/],
    ['ssh://git:pw@host/repo', /^gitUrl must not embed a password: use sshPrivateKey/],
    [
      'git://github.com/org/repo',
      /^gitUrl "git:\/\/github.com\/org\/repo" uses the unsupported transport 'git': use https:\/\/ or ssh$/,
    ],
    ['ext::/bin/false', /^gitUrl "ext::\/bin\/false" uses a remote helper transport: use https:\/\/ or ssh$/],
    ['fd::17', /uses a remote helper transport/],
    ['x+y.z-w::arg', /uses a remote helper transport/],
    [
      'foo/https://host/x',
      /^gitUrl "foo\/https:\/\/host\/x" is not a URL git can fetch: use https:\/\/host\/path or user@host:path$/,
    ],
    ['repo', /is not a URL git can fetch/],
    [
      'ssh://-oProxyCommand=x/repo',
      /^gitUrl "ssh:\/\/-oProxyCommand=x\/repo" has an invalid host "-oProxyCommand=x": /,
    ],
    [
      'git@-oProxyCommand=x:repo',
      /^gitUrl "git@-oProxyCommand=x:repo" has an invalid host "-oProxyCommand=x": /,
    ],
  ])('%j', (url, reason) => {
    // GIVEN the input named in the test's title / WHEN it is read / THEN:
    expect(() => parseGitUrl(url)).toThrow(ConfigError);
    expect(() => parseGitUrl(url)).toThrow(reason);
  });
});

describe('parseGitUrl reads', () => {
  it.each([
    ['./repo', 'file', true],
    ['../repo', 'file', true],
    ['/srv/repo.git', 'file', true],
    ['file:///srv/repo.git', 'file', true],
    ['git@host:a::b', 'ssh', false],
    ['host.example.com:path/to/repo', 'ssh', false],
  ] as const)('%s as %s (loopback %s)', (url, transport, loopback) => {
    // GIVEN the input named in the test's title / WHEN it is read / THEN:
    expect(parseGitUrl(url)).toMatchObject({ url, transport, loopback });
  });

  it('lowercases the host', () => {
    // GIVEN the input named in the test's title / WHEN it is read / THEN:
    expect(parseGitUrl('git@GitHub.COM:org/repo').host).toBe('github.com');
  });

  it.each([
    ['http://localhost/r', true],
    ['http://127.0.0.1/r', true],
    ['http://127.10.200.3/r', true],
    ['http://127.0.0.10/r', true],
    ['http://[::1]:8080/r', true],
    ['ssh://git@[::1]/r', true],
    ['http://127.0.0.1.evil.example/r', false],
    ['http://localhost.evil.example/r', false],
    ['http://[::2]/r', false],
    ['http://10.0.0.1/r', false],
  ])('%s is loopback: %s', (url, loopback) => {
    // GIVEN the input named in the test's title / WHEN it is read / THEN:
    expect(parseGitUrl(url).loopback).toBe(loopback);
  });
});

describe('assertTransportAllowed', () => {
  it('allows https and ssh everywhere', () => {
    // GIVEN the input named in the test's title / WHEN it is read / THEN:
    for (const url of ['https://example.com/r', 'git@example.com:r']) {
      expect(() => assertTransportAllowed(parseGitUrl(url), { local: false })).not.toThrow();
    }
  });

  it('refuses plain http to a host that only looks like loopback', () => {
    // GIVEN the input named in the test's title / WHEN it is read / THEN:
    expect(() =>
      assertTransportAllowed(parseGitUrl('http://127.0.0.1.evil.example/r'), { local: false }),
    ).toThrow(/^gitUrl "http:\/\/127.0.0.1.evil.example\/r" uses plain http: use https$/);
  });

  it('names a local path refused outside local mode', () => {
    // GIVEN the input named in the test's title / WHEN it is read / THEN:
    expect(() => assertTransportAllowed(parseGitUrl('./repo'), { local: false })).toThrow(
      /^gitUrl ".\/repo" is a local path: allowed only in local mode$/,
    );
  });
});
