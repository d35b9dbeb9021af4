import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/core/exit-codes.js';
import { type GitServer, startGitServer } from '../support/git-server.js';
import { createRepo } from '../support/repos.js';
import { runWorkerProcess } from '../support/worker-process.js';

// Two loopback hosts stand for gitUrl's host (127.0.0.1) and another one (127.0.0.2). Nothing
// here leaves the machine.
const TOKEN = 'tok-redirect-5b2d8e91c0';

let root: string;
let registry: string;
let ran: string;
let elsewhere: GitServer;
let redirector: Server;
let redirectorSeen: string[];
let redirectorUrl: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'iwomp-redirect-'));
  registry = join(root, 'registry');
  ran = join(root, 'command-ran');
  mkdirSync(registry);
  createRepo(root, 'app').commit('main', {
    'deploy.sh': { content: '#!/bin/sh\ntouch "$TEST_RAN_MARKER"\n', executable: true },
  });
  // The other host serves the repository to anyone and records every Authorization it gets.
  elsewhere = await startGitServer(root, { kind: 'none' }, { host: '127.0.0.2' });
  // gitUrl's host sends every request on to the other host, as a moved repository would.
  redirectorSeen = [];
  const target = new URL(elsewhere.url(''));
  redirector = createServer((req, res) => {
    redirectorSeen.push(`${req.method} ${req.url}`);
    res.writeHead(301, { Location: `${target.origin}${req.url}` }).end();
  });
  await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
  redirectorUrl = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}/app.git`;
});

beforeEach(() => {
  rmSync(ran, { force: true });
  elsewhere.seenAuthorization.length = 0;
});

afterAll(async () => {
  await elsewhere.stop();
  redirector.closeAllConnections();
  await new Promise((resolve) => redirector.close(resolve));
  rmSync(root, { recursive: true, force: true });
});

function register(project: string, gitUrl: string): void {
  writeFileSync(
    join(registry, `${project}.json`),
    JSON.stringify({ gitUrl, authToken: TOKEN, command: './deploy.sh' }),
  );
}

function run(project: string) {
  return runWorkerProcess({
    IWOMP_REGISTRY: `file:${registry}`,
    TEST_RAN_MARKER: ran,
    PROJECTNAME: project,
    GITBRANCH: 'main',
  });
}

describe('credentials and redirects', () => {
  it('the other host is a working git server: registered directly, it gets the token and the job deploys', async () => {
    // GIVEN a project whose gitUrl is the other host itself
    register('direct', elsewhere.url('app.git'));
    // WHEN the worker runs
    const result = await run('direct');
    // THEN it deploys, and that host saw the token: the host is reachable and records what it gets
    expect(result.stderr).not.toMatch(/^iwomp: /m);
    expect(result.code).toBe(0);
    expect(elsewhere.seenAuthorization).toContain(`Bearer ${TOKEN}`);
  });

  it('never sends the token to the host a redirect names: the fetch fails with one line, nothing runs', async () => {
    // GIVEN a project whose gitUrl's host answers 301 to the other host
    register('moved', redirectorUrl);
    // WHEN the worker runs
    const result = await run('moved');
    // THEN gitUrl's host was asked once, the other host got no token (no request at all),
    // and the job failed as a clone failure saying what to do
    expect(redirectorSeen.length).toBeGreaterThan(0);
    expect(elsewhere.seenAuthorization.filter((h) => h.includes(TOKEN))).toEqual([]);
    expect(elsewhere.seenAuthorization).toEqual([]);
    expect(result.code).toBe(ExitCode.cloneFailed);
    expect(result.stderr).toMatch(
      /^iwomp: http:\/\/127\.0\.0\.1:\d+\/app\.git answered with a redirect \(HTTP 301\), which the worker does not follow .*register the repository under its final URL$/m,
    );
    expect(result.stderr).not.toContain(TOKEN);
    expect(existsSync(ran)).toBe(false);
  });
});
