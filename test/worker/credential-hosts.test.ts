import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/core/exit-codes.js';
import { type GitServer, startGitServer } from '../support/git-server.js';
import { createRepo } from '../support/repos.js';
import { runWorkerProcess } from '../support/worker-process.js';

// Two loopback hosts stand for two machines: the git host the shared token belongs to
// (127.0.0.1) and a host a project names (127.0.0.2). No traffic leaves loopback.
const TOKEN = 'shared-tok-5f0c2d9e81b7a346';

let root: string;
let registry: string;
let home: GitServer;
let other: Server;
let otherPort: number;
const seenByOther: string[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'iwomp-credential-hosts-'));
  registry = join(root, 'registry');
  mkdirSync(registry);
  createRepo(root, 'app').commit('main', {
    'deploy.sh': { content: '#!/bin/sh\necho "deployed $1"\n', executable: true },
  });
  home = await startGitServer(root, { kind: 'token', token: TOKEN });
  // The other host records what it is sent and asks for credentials, as a real host would.
  other = createServer((req, res) => {
    seenByOther.push(req.headers.authorization ?? '');
    res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="other"' }).end();
  });
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.2', resolve));
  otherPort = (other.address() as AddressInfo).port;
});

beforeEach(() => {
  seenByOther.length = 0;
});

afterAll(async () => {
  await home.stop();
  other.closeAllConnections();
  await new Promise((resolve) => other.close(resolve));
  rmSync(root, { recursive: true, force: true });
});

function register(key: string, doc: Record<string, unknown>): void {
  writeFileSync(join(registry, `${key}.json`), JSON.stringify(doc));
}

const run = (project: string) =>
  runWorkerProcess({ IWOMP_REGISTRY: `file:${registry}`, PROJECTNAME: project, GITBRANCH: 'main' });

describe('_default credentials stay with their host', () => {
  it("go to the host of _default's gitUrl, and not to a host a project names", async () => {
    // GIVEN a shared token in _default, bound by its gitUrl to 127.0.0.1
    register('_default', { gitUrl: home.url('app.git'), authToken: TOKEN });
    register('home', { command: './deploy.sh' });
    register('elsewhere', { gitUrl: `http://127.0.0.2:${otherPort}/app.git`, command: './deploy.sh' });

    // WHEN a project on the token's own host deploys / THEN the token works there
    const ok = await run('home');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('deployed main');

    // WHEN a project names another host
    const result = await run('elsewhere');
    // THEN that host never sees the token, the clone fails on its own 401, and one line says why
    expect(seenByOther.length).toBeGreaterThan(0);
    expect(seenByOther.join('\n')).not.toContain(TOKEN);
    expect(seenByOther.every((h) => h === '')).toBe(true);
    expect(result.code).toBe(ExitCode.cloneFailed);
    expect(result.stderr).toContain(
      "[iwomp] _default's credentials are not sent to host 127.0.0.2: they are bound to 127.0.0.1\n",
    );
    expect(result.stderr).not.toContain(TOKEN);
  });

  it('go to a host _default lists in credentialHosts (the same recorder sees them)', async () => {
    // GIVEN the same token, now bound to both hosts
    register('_default', { authToken: TOKEN, credentialHosts: ['127.0.0.1', '127.0.0.2'] });
    register('elsewhere', { gitUrl: `http://127.0.0.2:${otherPort}/app.git`, command: './deploy.sh' });
    // WHEN the project on 127.0.0.2 runs / THEN the token is sent there: the recorder can see it
    await run('elsewhere');
    expect(seenByOther).toContain(`Bearer ${TOKEN}`);
  });
});
