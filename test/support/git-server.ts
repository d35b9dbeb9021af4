import { execFileSync, spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type GitServerAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'basic'; readonly username: string; readonly password: string };

export interface GitServer {
  /** `http://<host>:<port>/<repo>` for a bare repository under the root (host 127.0.0.1 unless given). */
  url(repo: string): string;
  /** Authorization headers the server saw, in order (to prove what git sent). */
  readonly seenAuthorization: string[];
  /** `METHOD /path?query` of every request, in order (to count fetches, lazy ones included). */
  readonly seenRequests: string[];
  stop(): Promise<void>;
}

export interface GitServerOptions {
  /** Address to listen on. @default '127.0.0.1' */
  readonly host?: string;
  /**
   * Serve partial clones (`uploadpack.allowFilter`, and fetches of single objects by id, which a
   * partial clone's lazy fetch makes), as GitHub, GitLab and Bitbucket do.
   * @default false - the server ignores `--filter` and sends every object, as git's default does.
   */
  readonly allowFilter?: boolean;
}

/**
 * A real smart-HTTP git server: `git http-backend` (CGI) behind a Node http server on loopback.
 * It answers 401 unless the request carries the expected credentials, so a clone that works
 * proves the worker sent them.
 */
export async function startGitServer(
  root: string,
  auth: GitServerAuth = { kind: 'none' },
  options: GitServerOptions = {},
): Promise<GitServer> {
  const host = options.host ?? '127.0.0.1';
  const seenAuthorization: string[] = [];
  const seenRequests: string[] = [];
  const config: Record<string, string> = {
    'uploadpack.allowFilter': String(options.allowFilter ?? false),
    'uploadpack.allowAnySHA1InWant': String(options.allowFilter ?? false),
  };
  const server: Server = createServer((req, res) => {
    const header = req.headers.authorization ?? '';
    seenAuthorization.push(header);
    seenRequests.push(`${req.method ?? 'GET'} ${req.url ?? '/'}`);
    if (!authorized(header, auth)) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="iwomp-test"' }).end('unauthorized\n');
      return;
    }
    serveCgi(root, config, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (repo) => `http://${host}:${port}/${repo}`,
    seenAuthorization,
    seenRequests,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function authorized(header: string, auth: GitServerAuth): boolean {
  switch (auth.kind) {
    case 'none':
      return true;
    case 'token':
      return header === `Bearer ${auth.token}`;
    case 'basic':
      return header === `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  }
}

function serveCgi(
  root: string,
  config: Record<string, string>,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const entries = Object.entries(config);
  const cgi = spawn('git', ['http-backend'], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      // The server's settings, as command-line config that reaches the upload-pack it starts.
      GIT_CONFIG_COUNT: String(entries.length),
      ...Object.fromEntries(
        entries.flatMap(([key, value], i) => [
          [`GIT_CONFIG_KEY_${i}`, key],
          [`GIT_CONFIG_VALUE_${i}`, value],
        ]),
      ),
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] } : {}),
      ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
      REMOTE_ADDR: '127.0.0.1',
      REMOTE_USER: 'iwomp-test',
    },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  req.pipe(cgi.stdin);
  let head = Buffer.alloc(0);
  let headersDone = false;
  cgi.stdout.on('data', (chunk: Buffer) => {
    if (headersDone) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end === -1) return;
    headersDone = true;
    let status = 200;
    for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
      else res.setHeader(name, value);
    }
    res.writeHead(status);
    res.write(head.subarray(end + 4));
  });
  cgi.stdout.on('end', () => res.end());
  cgi.on('error', () => res.writeHead(500).end());
}

/** Runs git synchronously in a test fixture (not product code: argv arrays, fixed identity). */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'iwomp test',
      GIT_AUTHOR_EMAIL: 'test@iwomp.invalid',
      GIT_COMMITTER_NAME: 'iwomp test',
      GIT_COMMITTER_EMAIL: 'test@iwomp.invalid',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
    },
  }).trim();
}
