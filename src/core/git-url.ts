import { ConfigError } from './errors.js';
import { quote } from './names.js';

/** How git reaches a repository. Every other transport (`git://`, `ext::`, …) is refused. */
export type GitTransport = 'https' | 'http' | 'ssh' | 'file';

export interface GitRemote {
  /** The URL exactly as git receives it: built from the parsed parts, so git reads what was checked. */
  readonly url: string;
  readonly transport: GitTransport;
  /** Host name, lowercase, for network transports (`[::1]` keeps its brackets). */
  readonly host?: string;
  /** True when the host is this machine: exactly `localhost`, `127.a.b.c` in plain decimal, or `[::1]`. */
  readonly loopback: boolean;
}

export interface TransportPolicy {
  /** A run the user explicitly made local: `file://` and plain `http://` are allowed. */
  readonly local: boolean;
}

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;
// A DNS name in ASCII (punycode for IDN): labels of letters, digits and inner hyphens, no empty
// label (so no trailing dot: `github.com.` would be a second spelling of a host that credentials
// are bound to).
const HOST_NAME =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
/** A host as `credentialHosts` names it: a DNS name or IPv4 address, or an IPv6 literal in brackets. */
export const CREDENTIAL_HOST =
  /^(?:(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])$/;
const SSH_USER = /^[A-Za-z0-9._][A-Za-z0-9._-]*$/;
const SCP_LIKE = /^(?:([^@:/]*)@)?([^:/]*|\[[^\]/]*\]):(?!\/\/)(.+)$/;

/**
 * Parses a `gitUrl` from the registry into the transport git will use, refusing anything git
 * could misread as an option, any transport that runs programs, and credentials in the URL
 * (they would land in `.git/config`, process listings and logs).
 *
 * The URL is parsed once, here, by a grammar narrower than every parser it reaches (git, curl,
 * WHATWG `URL`): where those disagree (a backslash, `@` in the authority, percent-encoding or
 * non-ASCII in the host, a query or fragment), the URL is refused instead of guessed at. For
 * example `http://127.0.0.1\@192.0.2.2/` is loopback to `URL` but a request to 192.0.2.2 for curl.
 */
export function parseGitUrl(url: string): GitRemote {
  if (url.length === 0) throw new ConfigError('gitUrl is empty');
  const refuse = (why: string) => new ConfigError(`gitUrl ${quote(withoutUserinfo(url))} ${why}`);
  if (/[\s\p{Cc}\p{Cf}]/u.test(url)) throw refuse('contains whitespace or control characters');
  if (url.includes('\\')) {
    throw refuse('contains a backslash: git, curl and URL parsers disagree on what it separates');
  }
  if (/[^\x21-\x7e]/.test(url)) {
    throw refuse(
      'contains non-ASCII characters: write the host in punycode (xn--…) and percent-encode the path',
    );
  }
  if (url.startsWith('-')) throw refuse("starts with '-'");

  const scheme = SCHEME.exec(url)?.[1];
  if (scheme === undefined) return parseSchemeless(url, refuse);
  if (scheme !== scheme.toLowerCase())
    throw refuse(`has an upper-case scheme: write ${scheme.toLowerCase()}://`);

  const rest = url.slice(scheme.length + 3);
  const slash = rest.search(/[/?#]/);
  const authority = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? '' : rest.slice(slash);
  switch (scheme) {
    case 'https':
    case 'http': {
      if (authority.includes('@') || /%40/i.test(authority)) {
        throw new ConfigError(
          'gitUrl must not embed credentials (user:password@): put a token in authToken, or use basicUsername and basicPassword',
        );
      }
      const { host, port } = parseAuthority(authority, refuse);
      return network(`${scheme}://${host}${port}${parsePath(path, refuse)}`, scheme, host);
    }
    case 'ssh': {
      const at = authority.lastIndexOf('@');
      const userinfo = at === -1 ? undefined : authority.slice(0, at);
      if (userinfo?.includes(':')) {
        throw new ConfigError('gitUrl must not embed a password: use sshPrivateKey and sshKnownHosts');
      }
      if (userinfo !== undefined && !SSH_USER.test(userinfo)) {
        throw refuse('has an invalid ssh user: use letters, digits, . _ and -');
      }
      const { host, port } = parseAuthority(authority.slice(at + 1), refuse);
      const user = userinfo === undefined ? '' : `${userinfo}@`;
      return network(`ssh://${user}${host}${port}${parsePath(path, refuse)}`, 'ssh', host);
    }
    case 'file':
      if (/[?#]/.test(rest)) throw refuse('must not have a query or fragment');
      return { url, transport: 'file', loopback: true };
    default:
      throw refuse(`uses the unsupported transport '${scheme}': use https:// or ssh`);
  }
}

type Refuse = (why: string) => ConfigError;

function parseAuthority(authority: string, refuse: Refuse): { host: string; port: string } {
  const match = /^(\[[^\]]*\]|[^:]*)(?::([0-9]{1,5}))?$/.exec(authority);
  const rawHost = match?.[1] ?? '';
  const port = match?.[2];
  if (match === null || (port !== undefined && (Number(port) < 1 || Number(port) > 65535))) {
    throw refuse(`has an invalid host or port ${quote(authority)}`);
  }
  // No zone id (`%eth0`): curl and URL() treat it differently.
  // WHATWG URL as the IPv6 syntax check (no import: the core does no I/O); only hex, ':' and '.'.
  const v6 = /^\[[0-9A-Fa-f:.]+\]$/.test(rawHost) && URL.canParse(`http://${rawHost}/`);
  if (!v6 && !HOST_NAME.test(rawHost)) {
    throw refuse(`has an invalid host ${quote(rawHost)}: use a DNS name (punycode for IDN), IPv4 or [IPv6]`);
  }
  return { host: rawHost.toLowerCase(), port: port === undefined ? '' : `:${port}` };
}

function parsePath(path: string, refuse: Refuse): string {
  if (/[?#]/.test(path)) throw refuse('must not have a query or fragment');
  if (!path.startsWith('/') || path === '/') throw refuse('has no repository path');
  return path;
}

function parseSchemeless(url: string, refuse: Refuse): GitRemote {
  if (/^[A-Za-z][A-Za-z0-9+.-]*::/.test(url))
    throw refuse('uses a remote helper transport: use https:// or ssh');
  if (url.startsWith('/') || url.startsWith('./') || url.startsWith('../')) {
    return { url, transport: 'file', loopback: true };
  }
  // `user:secret@host:path`: git would read `user` as the host, but it is meant as credentials.
  if (/^[^@/]*:[^@/]*@/.test(url)) {
    throw new ConfigError('gitUrl must not embed a password: use sshPrivateKey and sshKnownHosts');
  }
  // git reads `host:path` as ssh only when no '/' comes before the first ':'.
  const scp = SCP_LIKE.exec(url);
  if (scp === null || (scp[2] ?? '').length === 0) {
    throw refuse('is not a URL git can fetch: use https://host/path or user@host:path');
  }
  const [, user, rawHost = ''] = scp;
  if (user !== undefined && !SSH_USER.test(user)) {
    if (/[:%]/.test(user)) {
      throw new ConfigError('gitUrl must not embed a password: use sshPrivateKey and sshKnownHosts');
    }
    throw refuse('has an invalid ssh user: use letters, digits, . _ and -');
  }
  const { host } = parseAuthority(rawHost, refuse);
  return { url, transport: 'ssh', host, loopback: isLoopback(host) };
}

function network(url: string, transport: GitTransport, host: string): GitRemote {
  return { url, transport, host, loopback: isLoopback(host) };
}

const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const LOOPBACK_V4 = new RegExp(`^127\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

/**
 * Only the plain spellings count: `127.1`, `2130706433`, `0x7f.1` or `[::ffff:127.0.0.1]` also
 * reach this machine through curl, but reading them as "not loopback" only makes the rules
 * stricter for them (plain http refused), never looser.
 */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || LOOPBACK_V4.test(host);
}

/** Refuses transports that are not safe for this run: plain `http://` to another host, `file://` outside local runs. */
export function assertTransportAllowed(remote: GitRemote, policy: TransportPolicy): void {
  if (remote.transport === 'file' && !policy.local) {
    throw new ConfigError(`gitUrl ${quote(remote.url)} is a local path: allowed only in local mode`);
  }
  if (remote.transport === 'http' && !policy.local && !remote.loopback) {
    throw new ConfigError(`gitUrl ${quote(remote.url)} uses plain http: use https`);
  }
}

/**
 * A git URL fit to print in `projects show` and `list`: userinfo dropped (see
 * {@link withoutUserinfo}), and a URL that does not parse at all shown as `(invalid URL)`.
 */
export function displayGitUrl(url: string | undefined): string {
  if (url === undefined) return '';
  const shown = withoutUserinfo(url);
  return SCHEME.test(shown) && !URL.canParse(shown) ? '(invalid URL)' : shown;
}

/**
 * A git URL with whatever could be userinfo dropped, read the way curl and git read it: up to the
 * last `@` before the first `/`, `?` or `#` (a backslash does not end it). An ssh login name
 * without a password is kept: it is not a secret. Works on malformed URLs too, since those are
 * the ones that reach error messages.
 */
export function withoutUserinfo(url: string): string {
  const scheme = SCHEME.exec(url);
  if (scheme === null) {
    // scp-like `user@host:path`: keep a plain login name, drop anything else before the '@'.
    const at = /^([^/]*?)@/.exec(url);
    if (at === null || at[1] === undefined || SSH_USER.test(at[1])) return url;
    return url.slice(at[0].length);
  }
  const rest = url.slice(scheme[0].length);
  const end = rest.search(/[/?#]/);
  const authority = end === -1 ? rest : rest.slice(0, end);
  const at = authority.lastIndexOf('@');
  if (at === -1) return url;
  const login = authority.slice(0, at).split(':')[0] ?? '';
  const keep = scheme[1]?.toLowerCase() === 'ssh' && SSH_USER.test(login) ? `${login}@` : '';
  return `${scheme[0]}${keep}${authority.slice(at + 1)}${end === -1 ? '' : rest.slice(end)}`;
}
