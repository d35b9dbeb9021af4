import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { assertTransportAllowed, parseGitUrl, withoutUserinfo } from '../../src/core/git-url.js';

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

describe('parseGitUrl: one reading, the one git and curl will use', () => {
  // GIVEN URLs that WHATWG URL, curl and git read differently, or that smuggle userinfo
  it.each([
    [
      'backslash before @ (curl: userinfo, URL: path)',
      'http://127.0.0.1\\@192.0.2.2:18081/app.git',
      /backslash/,
    ],
    ['backslash as a path separator', 'https://github.com\\org/repo.git', /backslash/],
    ['percent-encoded backslash in the host', 'http://127.0.0.1%5C@192.0.2.2/app.git', /credentials/],
    ['percent-encoded backslash alone', 'http://127.0.0.1%5C.evil/app.git', /invalid host/],
    ['percent-encoded @ in the authority', 'http://127.0.0.1%40192.0.2.2/app.git', /credentials/],
    ['userinfo without a password', 'https://ghp_abcdefgh@github.com/org/repo', /credentials/],
    ['empty userinfo', 'https://@github.com/org/repo', /credentials/],
    ['userinfo with an empty password', 'http://127.0.0.1:@192.0.2.2/app.git', /credentials/],
    ['two @', 'http://a@127.0.0.1@192.0.2.2/app.git', /credentials/],
    ['userinfo on an IPv6 host', 'http://[::1]@192.0.2.2/app.git', /credentials/],
    ['fragment hiding an @', 'http://192.0.2.2#@127.0.0.1/app.git', /query or fragment/],
    ['query hiding an @', 'http://192.0.2.2?@127.0.0.1/app.git', /query or fragment/],
    ['query after the path', 'https://github.com/org/repo.git?x=1', /query or fragment/],
    ['trailing dot', 'http://localhost./app.git', /invalid host/],
    ['empty label', 'https://github..com/org/repo', /invalid host/],
    ['IDN host (non-ASCII)', 'https://gіthub.com/org/repo', /non-ASCII/],
    ['full-width dot', 'https://github．com/org/repo', /non-ASCII/],
    ['IPv6 zone id', 'http://[fe80::1%25lo]/app.git', /invalid host/],
    ['not an IPv6 literal', 'http://[127.0.0.1]/app.git', /invalid host/],
    ['port out of range', 'http://127.0.0.1:99999/app.git', /invalid host or port/],
    ['port zero', 'http://127.0.0.1:0/app.git', /invalid host or port/],
    ['signed port', 'http://127.0.0.1:+80/app.git', /invalid host or port/],
    ['no path', 'https://github.com', /no repository path/],
    ['upper-case scheme', 'HTTP://127.0.0.1/app.git', /upper-case scheme/],
    ['host starting with a hyphen', 'https://-oProxyCommand=x/repo', /invalid host/],
    ['ssh user with percent-encoding', 'ssh://git%3Ax@host/repo', /invalid ssh user/],
    ['scp-like password', 'git:secretpw@github.com:org/repo.git', /password/],
    ['scp-like backslash', 'git@127.0.0.1\\@192.0.2.2:repo', /backslash/],
  ])('refuses %s: %s', (_name, url, reason) => {
    // WHEN it is parsed / THEN it is refused, with the reason
    expect(() => parseGitUrl(url)).toThrow(reason);
  });

  it('refuses http://127.0.0.1\\@192.0.2.2 although WHATWG URL reads it as loopback', () => {
    // GIVEN the URL of the report: URL() sees host 127.0.0.1, curl connects to 192.0.2.2
    const url = 'http://127.0.0.1\\@192.0.2.2:18081/app.git';
    expect(new URL(url).hostname).toBe('127.0.0.1');
    // WHEN / THEN it never becomes a loopback remote
    expect(() => parseGitUrl(url)).toThrow(ConfigError);
  });

  it.each([
    ['http://127.0.0.1:8080/r.git', true],
    ['http://127.255.0.9/r.git', true],
    ['http://localhost/r.git', true],
    ['http://[::1]:9/r.git', true],
    // Other spellings curl may resolve to loopback count as remote: stricter, never looser.
    ['http://127.1/r.git', false],
    ['http://2130706433/r.git', false],
    ['http://0x7f.0.0.1/r.git', false],
    ['http://0177.0.0.1/r.git', false],
    ['http://127.0.0.01/r.git', false],
    ['http://127.0.0.256/r.git', false],
    ['http://[0:0:0:0:0:0:0:1]/r.git', false],
    ['http://[::ffff:127.0.0.1]/r.git', false],
    ['http://localhost.localdomain/r.git', false],
    ['http://127.0.0.1.nip.io/r.git', false],
  ])('%s is loopback: %s', (url, loopback) => {
    // WHEN parsed / THEN only the plain spellings are loopback, and plain http elsewhere is refused
    expect(parseGitUrl(url).loopback).toBe(loopback);
    const check = () => assertTransportAllowed(parseGitUrl(url), { local: false });
    if (loopback) expect(check).not.toThrow();
    else expect(check).toThrow(/use https/);
  });

  it('gives git the URL it checked, host lower-cased', () => {
    expect(parseGitUrl('https://GitHub.COM/Org/Repo.git').url).toBe('https://github.com/Org/Repo.git');
    expect(parseGitUrl('https://github.com/org/repo@v1').host).toBe('github.com');
    expect(parseGitUrl('https://github.com/org/%40x%5Cy.git').host).toBe('github.com');
    expect(parseGitUrl('https://xn--gthub-n4a.com/org/repo').host).toBe('xn--gthub-n4a.com');
  });
});

describe('errors and displays never echo userinfo', () => {
  const TOKEN = 'ghp_0123456789abcdefghijklmnopqrstuvwxyz';
  it.each([
    `https://x-access-token:${TOKEN}@github.com/org/repo with space`,
    `https://x-access-token:${TOKEN}@github.com/org/repo\n`,
    `http://${TOKEN}\\@github.com/org/repo`,
    `https://x:${TOKEN}@github.com/org/repo?x`,
    `HTTPS://x:${TOKEN}@github.com/org/repo`,
    `https://x:${TOKEN}@github.com:99999/org/repo`,
    `ftp://x:${TOKEN}@github.com/org/repo`,
    `x:${TOKEN}@github.com:org/repo`,
    `ssh://git:${TOKEN}@github.com/org/repo`,
  ])('refuses %j without the token in the message', (url) => {
    // WHEN the malformed URL is parsed / THEN the error names the problem but not the secret
    let message = '';
    try {
      parseGitUrl(url);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^gitUrl/);
    expect(message).not.toContain(TOKEN);
    expect(message).not.toContain(TOKEN.slice(0, 12));
  });

  it.each([
    [`https://x-access-token:${TOKEN}@github.com/org/repo`, 'https://github.com/org/repo'],
    [`http://127.0.0.1\\@192.0.2.2:18081/app.git`, 'http://192.0.2.2:18081/app.git'],
    [`https://${TOKEN}@github.com/org/repo`, 'https://github.com/org/repo'],
    ['https://github.com/org/repo@v1', 'https://github.com/org/repo@v1'],
    ['ssh://git@github.com/org/repo', 'ssh://git@github.com/org/repo'],
  ])('withoutUserinfo(%j) is %j', (url, shown) => {
    expect(withoutUserinfo(url)).toBe(shown);
  });
});
