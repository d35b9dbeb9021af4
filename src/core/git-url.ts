import { ConfigError } from './errors.js';
import { quote } from './names.js';

/** How git reaches a repository. Every other transport (`git://`, `ext::`, …) is refused. */
export type GitTransport = 'https' | 'http' | 'ssh' | 'file';

export interface GitRemote {
  /** The URL exactly as git receives it. */
  readonly url: string;
  readonly transport: GitTransport;
  /** Host name, for network transports. */
  readonly host?: string;
  /** True when the host is this machine (`localhost`, `127.0.0.0/8`, `::1`). */
  readonly loopback: boolean;
}

export interface TransportPolicy {
  /** A run the user explicitly made local: `file://` and plain `http://` are allowed. */
  readonly local: boolean;
}

const SCP_LIKE =
  /^(?:([A-Za-z0-9._][A-Za-z0-9._-]*)@)?([A-Za-z0-9.][A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\]):(?!\/\/)(.+)$/;
const HOST = /^(?:[A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\])$/;

/**
 * Parses a `gitUrl` from the registry into the transport git will use, refusing anything git
 * could misread as an option, any transport that runs programs, and credentials in the URL
 * (they would land in `.git/config`, process listings and logs).
 */
export function parseGitUrl(url: string): GitRemote {
  if (url.length === 0) throw new ConfigError('gitUrl is empty');
  if (/[\s\p{Cc}\p{Cf}]/u.test(url))
    throw new ConfigError(`gitUrl ${quote(url)} contains whitespace or control characters`);
  if (url.startsWith('-')) throw new ConfigError(`gitUrl ${quote(url)} starts with '-'`);

  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) return parseSchemeless(url);

  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new ConfigError(`gitUrl ${quote(url)} is not a valid URL`, { cause });
  }
  switch (scheme) {
    case 'https':
    case 'http': {
      if (parsed.username !== '' || parsed.password !== '') {
        throw new ConfigError(
          'gitUrl must not embed credentials (user:password@): put a token in authToken, or use basicUsername and basicPassword',
        );
      }
      return network(url, scheme, parsed.hostname);
    }
    case 'ssh': {
      if (parsed.password !== '') {
        throw new ConfigError('gitUrl must not embed a password: use sshPrivateKey and sshKnownHosts');
      }
      return network(url, 'ssh', parsed.hostname);
    }
    case 'file':
      return { url, transport: 'file', loopback: true };
    default:
      throw new ConfigError(
        `gitUrl ${quote(url)} uses the unsupported transport '${scheme}': use https:// or ssh`,
      );
  }
}

function parseSchemeless(url: string): GitRemote {
  if (/^[A-Za-z][A-Za-z0-9+.-]*::/.test(url)) {
    throw new ConfigError(`gitUrl ${quote(url)} uses a remote helper transport: use https:// or ssh`);
  }
  if (url.startsWith('/') || url.startsWith('./') || url.startsWith('../')) {
    return { url, transport: 'file', loopback: true };
  }
  const scp = SCP_LIKE.exec(url);
  if (scp && !scp[2]?.includes('/')) return network(url, 'ssh', scp[2] ?? '');
  throw new ConfigError(
    `gitUrl ${quote(url)} is not a URL git can fetch: use https://host/path or user@host:path`,
  );
}

function network(url: string, transport: GitTransport, rawHost: string): GitRemote {
  if (!HOST.test(rawHost))
    throw new ConfigError(`gitUrl ${quote(url)} has an invalid host ${quote(rawHost)}`);
  const host = rawHost.toLowerCase();
  return { url, transport, host, loopback: isLoopback(host) };
}

function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
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
