import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/core/exit-codes.js';
import { Redactor } from '../../src/core/redact.js';
import { CommitStatusReporter } from '../../src/worker/commit-status.js';
import { type GitServer, startGitServer } from '../support/git-server.js';
import { createRepo } from '../support/repos.js';
import { runWorkerProcess, type WorkerRun } from '../support/worker-process.js';

// Two different secrets: the git token clones, the status token only ever goes to the status API.
const GIT_TOKEN = 'git-tok-5d0c3b1a9e7f';
const STATUS_TOKEN = 'stat_4e9a/71c+0b2d"x';
const BUILD_URL =
  'https://console.aws.amazon.com/codesuite/codebuild/projects/iwomp-worker/build/iwomp-worker%3A1234';

/** A request as the stand-in API received it. */
interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A local HTTP server standing in for the git host's API: records every request, answers `status`. */
interface FakeApi {
  readonly url: string;
  readonly seen: SeenRequest[];
  /** What the next requests get: a status, or a redirect to `location`. */
  answer: { status: number; location?: string };
  stop(): Promise<void>;
}

async function startFakeApi(): Promise<FakeApi> {
  const seen: SeenRequest[] = [];
  const api = {
    seen,
    answer: { status: 201 } as { status: number; location?: string },
  };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString();
    });
    req.on('end', () => {
      seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      const { status, location } = api.answer;
      res.writeHead(status, {
        'Content-Type': 'application/json',
        ...(location === undefined ? {} : { Location: location }),
      });
      // Echoes the token back, as an API's error page might: the worker must never print it.
      res.end(JSON.stringify({ echo: req.headers.authorization ?? req.headers['private-token'] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(api, {
    url: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

/** The headers fetch adds on its own (transport), left out of the exact comparison. */
const TRANSPORT_HEADERS = new Set([
  'host',
  'connection',
  'content-length',
  'accept-encoding',
  'accept-language',
  'sec-fetch-mode',
]);

function ownHeaders(headers: IncomingHttpHeaders): Record<string, string | string[] | undefined> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !TRANSPORT_HEADERS.has(name)));
}

let root: string;
let registry: string;
let envDump: string;
let git: GitServer;
let api: FakeApi;
let elsewhere: FakeApi;
let mainCommit: string;
let failCommit: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'iwomp-status-'));
  registry = join(root, 'registry');
  envDump = join(root, 'command-env');
  mkdirSync(registry);
  const repo = createRepo(root, 'acme/app');
  // The deploy script dumps its whole environment: the status token must not be in it.
  const deploy = (exit: number) => ({
    content: `#!/bin/sh\nenv > "$ENV_DUMP"\necho "deploying $1 with GH_TOKEN=$GH_TOKEN"\nexit ${exit}\n`,
    executable: true,
  });
  mainCommit = repo.commit('main', { 'deploy.sh': deploy(0), 'infra/.keep': '' });
  failCommit = repo.commit('fail', { 'deploy.sh': deploy(3) });
  git = await startGitServer(root, { kind: 'token', token: GIT_TOKEN });
  api = await startFakeApi();
  elsewhere = await startFakeApi();
  const project = (name: string, doc: Record<string, unknown>) =>
    writeFileSync(
      join(registry, `${name}.json`),
      JSON.stringify({
        gitUrl: git.url('acme/app.git'),
        authToken: GIT_TOKEN,
        command: './deploy.sh',
        statusToken: STATUS_TOKEN,
        ...doc,
      }),
    );
  project('hub', { statusProvider: 'github', statusApiUrl: `${api.url}/api/v3/` });
  project('lab', { statusProvider: 'gitlab', statusApiUrl: `${api.url}/api/v4` });
  project('hub-nowhere', {
    statusProvider: 'github',
    statusApiUrl: `${api.url}/api/v3`,
    deployDir: 'nowhere',
  });
  // The token pasted into the command: the failure's description quotes the program name.
  project('hub-typo', {
    statusProvider: 'github',
    statusApiUrl: `${api.url}/api/v3`,
    command: `./deploy-${STATUS_TOKEN}.sh`,
  });
});

afterAll(async () => {
  await git.stop();
  await api.stop();
  await elsewhere.stop();
  rmSync(root, { recursive: true, force: true });
});

beforeEach(() => {
  api.seen.length = 0;
  api.answer = { status: 201 };
  elsewhere.seen.length = 0;
  rmSync(envDump, { force: true });
});

function deploy(project: string, branch: string, extra: Record<string, string> = {}): Promise<WorkerRun> {
  return runWorkerProcess({
    IWOMP_REGISTRY: `file:${registry}`,
    IWOMP_LOCAL: '1',
    PROJECTNAME: project,
    GITBRANCH: branch,
    CODEBUILD_BUILD_URL: BUILD_URL,
    ENV_DUMP: envDump,
    // The same token in the worker's own environment (a CodeBuild variable, say): it must not
    // pass to the deploy command.
    GH_TOKEN: STATUS_TOKEN,
    ...extra,
  });
}

/** Every place the token must never be: the log, the command's environment. */
function expectNoToken(run: WorkerRun): void {
  const forms = [STATUS_TOKEN, encodeURIComponent(STATUS_TOKEN), JSON.stringify(STATUS_TOKEN).slice(1, -1)];
  let dumped = '';
  try {
    dumped = readFileSync(envDump, 'utf8');
  } catch {
    // the command did not run
  }
  for (const form of forms) {
    expect(run.stdout).not.toContain(form);
    expect(run.stderr).not.toContain(form);
    expect(dumped).not.toContain(form);
  }
  expect(dumped).not.toMatch(/stat_4e9a/);
}

const githubHeaders = {
  accept: 'application/vnd.github+json',
  authorization: `Bearer ${STATUS_TOKEN}`,
  'content-type': 'application/json',
  'user-agent': 'iwomp-in-aws',
  'x-github-api-version': '2022-11-28',
};

describe('GitHub commit statuses, through the worker', () => {
  it('sets pending when the command starts and success when it deployed, on the checked-out commit', async () => {
    // GIVEN a project with a GitHub status token, deploying main
    // WHEN the worker deploys it
    const run = await deploy('hub', 'main');

    // THEN it deployed, and the API got exactly two requests: pending, then success
    expect(run.code).toBe(0);
    expect(api.seen.map((r) => ({ ...r, headers: ownHeaders(r.headers) }))).toEqual([
      {
        method: 'POST',
        path: `/api/v3/repos/acme/app/statuses/${mainCommit}`,
        headers: githubHeaders,
        body: JSON.stringify({
          state: 'pending',
          target_url: BUILD_URL,
          description: 'deploying main',
          context: 'iwomp/hub',
        }),
      },
      {
        method: 'POST',
        path: `/api/v3/repos/acme/app/statuses/${mainCommit}`,
        headers: githubHeaders,
        body: JSON.stringify({
          state: 'success',
          target_url: BUILD_URL,
          description: 'deployed main',
          context: 'iwomp/hub',
        }),
      },
    ]);
    expect(run.stderr).toContain(`commit status success set on github acme/app@${mainCommit.slice(0, 12)}`);
    // AND the token is in no log line and not in the command's environment
    expect(readFileSync(envDump, 'utf8')).toContain('IWOMP_COMMIT=');
    expect(run.stdout).toContain('with GH_TOKEN=\n');
    expectNoToken(run);
  });

  it('sets failure with the reason when the command fails, and keeps its exit status', async () => {
    // WHEN the deploy command exits 3
    const run = await deploy('hub', 'fail');

    // THEN the worker exits 3, and the status says failure with the one-line reason
    expect(run.code).toBe(3);
    expect(api.seen.map((r) => [r.path, JSON.parse(r.body)])).toEqual([
      [
        `/api/v3/repos/acme/app/statuses/${failCommit}`,
        { state: 'pending', target_url: BUILD_URL, description: 'deploying fail', context: 'iwomp/hub' },
      ],
      [
        `/api/v3/repos/acme/app/statuses/${failCommit}`,
        {
          state: 'failure',
          target_url: BUILD_URL,
          description: 'command failed with exit status 3',
          context: 'iwomp/hub',
        },
      ],
    ]);
    expectNoToken(run);
  });

  it('sets error, with no pending, when the worker could not run the command after the checkout', async () => {
    // GIVEN a deployDir the branch does not have
    // WHEN the worker deploys it
    const run = await deploy('hub-nowhere', 'main');

    // THEN the config error is the outcome, and the checked-out commit says error
    expect(run.code).toBe(ExitCode.registryOrConfig);
    expect(api.seen.map((r) => [r.path, JSON.parse(r.body)])).toEqual([
      [
        `/api/v3/repos/acme/app/statuses/${mainCommit}`,
        {
          state: 'error',
          target_url: BUILD_URL,
          description: "deployDir 'nowhere' does not exist in the repository",
          context: 'iwomp/hub-nowhere',
        },
      ],
    ]);
  });

  it('redacts the token from the description and from every line, even when the command names it', async () => {
    // GIVEN a command whose program name holds the token (and does not exist)
    // WHEN the worker deploys it
    const run = await deploy('hub-typo', 'main');

    // THEN the failure's description shows *** where the token was, and no line holds the token
    expect(run.code).toBe(ExitCode.commandNotFound);
    const final = JSON.parse(api.seen.at(-1)?.body ?? '{}') as { state: string; description: string };
    expect(final.state).toBe('failure');
    expect(final.description).toMatch(/^command "\.\/deploy-\*\*\*\.sh" not found/);
    expect(final.description.length).toBeLessThanOrEqual(140);
    expect(api.seen.map((r) => r.body).join('\n')).not.toContain(STATUS_TOKEN);
    expect(run.stderr).toMatch(/^iwomp: command "\.\/deploy-\*\*\*\.sh" not found/m);
    expectNoToken(run);
  });

  it('sets no status when the commit is unknown (the branch could not be fetched)', async () => {
    // WHEN the branch does not exist
    const run = await deploy('hub', 'no-such-branch');

    // THEN the clone failed and no request was made
    expect(run.code).toBe(ExitCode.cloneFailed);
    expect(api.seen).toEqual([]);
  });
});

describe('GitLab commit statuses, through the worker', () => {
  const gitlabHeaders = {
    accept: 'application/json',
    'content-type': 'application/json',
    'private-token': STATUS_TOKEN,
    'user-agent': 'iwomp-in-aws',
  };

  it('sets running, then success, on the URL-encoded project path', async () => {
    // WHEN a GitLab project deploys
    const run = await deploy('lab', 'main');

    // THEN running then success, with GitLab's header and field names
    expect(run.code).toBe(0);
    expect(api.seen.map((r) => ({ ...r, headers: ownHeaders(r.headers) }))).toEqual(
      ['running', 'success'].map((state, i) => ({
        method: 'POST',
        path: `/api/v4/projects/acme%2Fapp/statuses/${mainCommit}`,
        headers: gitlabHeaders,
        body: JSON.stringify({
          state,
          target_url: BUILD_URL,
          description: i === 0 ? 'deploying main' : 'deployed main',
          name: 'iwomp/lab',
        }),
      })),
    );
    expectNoToken(run);
  });

  it('sets failed when the command fails, with no link outside CodeBuild', async () => {
    // WHEN the command exits 3 in a run that is not a CodeBuild build (no build URL)
    const run = await deploy('lab', 'fail', { CODEBUILD_BUILD_URL: '' });

    // THEN GitLab's states: running, then failed, and no target_url
    expect(run.code).toBe(3);
    expect(api.seen.map((r) => JSON.parse(r.body))).toEqual([
      { state: 'running', description: 'deploying fail', name: 'iwomp/lab' },
      { state: 'failed', description: 'command failed with exit status 3', name: 'iwomp/lab' },
    ]);
  });
});

describe('a status that cannot be set', () => {
  it('is one warning line, never a failed deploy, and never shows what the API answered', async () => {
    // GIVEN an API that answers 500 (with the token echoed in its body)
    api.answer = { status: 500 };
    // WHEN the worker deploys
    const run = await deploy('hub', 'main');

    // THEN the deploy succeeded, each status is one warning line, and the token is nowhere
    expect(run.code).toBe(0);
    const warnings = run.stderr
      .split('\n')
      .filter((line) => line.includes('warning: cannot set commit status'));
    expect(warnings).toEqual([
      `[iwomp] warning: cannot set commit status pending on github acme/app@${mainCommit.slice(0, 12)}: the API answered HTTP 500`,
      `[iwomp] warning: cannot set commit status success on github acme/app@${mainCommit.slice(0, 12)}: the API answered HTTP 500`,
    ]);
    expectNoToken(run);
  });

  it('is not followed through a redirect, so the token goes nowhere else', async () => {
    // GIVEN an API that redirects to another server
    api.answer = { status: 307, location: `${elsewhere.url}/steal` };
    // WHEN the worker deploys
    const run = await deploy('hub', 'fail');

    // THEN the other server saw nothing, the deploy's own exit status stands, and each status is a warning
    expect(run.code).toBe(3);
    expect(elsewhere.seen).toEqual([]);
    expect(run.stderr.match(/warning: cannot set commit status (pending|failure) on github/g)).toHaveLength(
      2,
    );
    expectNoToken(run);
  });

  it('is a warning when the API cannot be reached', async () => {
    // GIVEN a status API on a port nobody listens on
    const closed = await startFakeApi();
    await closed.stop();
    writeFileSync(
      join(registry, 'hub-down.json'),
      JSON.stringify({
        gitUrl: git.url('acme/app.git'),
        authToken: GIT_TOKEN,
        command: './deploy.sh',
        statusToken: STATUS_TOKEN,
        statusProvider: 'github',
        statusApiUrl: closed.url,
      }),
    );
    // WHEN the worker deploys
    const run = await deploy('hub-down', 'main');

    // THEN it deployed, with one warning per status naming why
    expect(run.code).toBe(0);
    expect(
      run.stderr.match(
        /warning: cannot set commit status \w+ on github acme\/app@\w+: fetch failed: ECONNREFUSED/g,
      ),
    ).toHaveLength(2);
  });
});

describe('CommitStatusReporter', () => {
  it('gives up on an API that does not answer in time, with one warning line', async () => {
    // GIVEN an API that accepts the connection and never answers
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const lines: string[] = [];
    const reporter = new CommitStatusReporter({
      setting: {
        provider: 'github',
        apiUrl: `http://127.0.0.1:${port}`,
        token: STATUS_TOKEN,
        repository: 'acme/app',
      },
      project: 'hub',
      redactor: new Redactor([STATUS_TOKEN]),
      log: (line) => lines.push(line),
      timeoutMs: 200,
    });
    try {
      // WHEN a status is set
      const started = performance.now();
      reporter.set(mainCommit, 'pending', 'deploying main');
      await reporter.settled();
      // THEN it ended at the timeout, and said so in one line
      expect(performance.now() - started).toBeLessThan(5000);
      expect(lines).toEqual([
        `warning: cannot set commit status pending on github acme/app@${mainCommit.slice(0, 12)}: no answer in time`,
      ]);
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
