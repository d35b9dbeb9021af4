import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/core/exit-codes.js';
import { type GitServer, startGitServer } from '../support/git-server.js';
import { createGitShim, type GitShim } from '../support/git-shim.js';
import { createRepo } from '../support/repos.js';
import { runWorkerProcess } from '../support/worker-process.js';

let root: string;
let registry: string;
let ran: string;
let shim: GitShim;
let server: GitServer;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'iwomp-hostile-'));
  registry = join(root, 'registry');
  ran = join(root, 'ran');
  mkdirSync(registry);
  createRepo(root, 'app').commit('main', {
    'deploy.sh': { content: '#!/bin/sh\ntouch "$TEST_RAN_MARKER"\n', executable: true },
  });
  server = await startGitServer(root);
  shim = createGitShim(root);
});

beforeEach(() => {
  shim.reset();
  rmSync(ran, { force: true });
  for (const f of ['app.json', '_default.json']) rmSync(join(registry, f), { force: true });
});

afterAll(async () => {
  await server.stop();
  rmSync(root, { recursive: true, force: true });
});

interface Case {
  /** Worker environment on top of a valid one. */
  env?: Record<string, string>;
  /** Project document replacing the valid one (merged over it). */
  doc?: Record<string, unknown>;
  code: number;
  error: RegExp;
  /** Whether git may run (deployDir symlinks can only be checked after the clone). */
  gitRuns?: boolean;
}

const branchCases: Array<[string, Case]> = [
  '--upload-pack=touch /tmp/x',
  '-b',
  '../../etc',
  'a..b',
  'main~1',
  'main^',
  'a:b',
  'a b',
  'a\tb',
  'a?b',
  'a*',
  'a[0]',
  'a\\b',
  'x@{-1}',
  'HEAD',
  '@',
  '.hidden',
  'a/.b',
  'x.lock',
  'trailing/',
  '/leading',
  'a//b',
  'dot.',
  'main\u202E',
  'zero\u200Bwidth',
  'release/\u3164',
  'main\u00A0',
  'release/\u2800',
  'refs/heads/refs/heads/main',
  'x'.repeat(256),
].map((branch) => [
  `branch ${JSON.stringify(branch).slice(0, 40)}`,
  {
    env: { GITBRANCH: branch },
    code: ExitCode.badEnvironment,
    error: /^iwomp: GITBRANCH: invalid branch name/m,
  },
]);

const projectCases: Array<[string, Case]> = [
  '../x',
  'a/b',
  '_default',
  '.git',
  '-x',
  'x'.repeat(129),
  'dеmo',
  'a b',
  '%2e%2e',
].map((project) => [
  `project ${JSON.stringify(project).slice(0, 40)}`,
  {
    env: { PROJECTNAME: project },
    code: ExitCode.badEnvironment,
    error: /^iwomp: PROJECTNAME: invalid project name/m,
  },
]);

const deployDirCases: Array<[string, Case]> = [
  [
    'deployDir ..',
    {
      doc: { deployDir: '..' },
      code: ExitCode.registryOrConfig,
      error: /deployDir "\.\." must not contain '\.\.'/,
    },
  ],
  [
    'deployDir ../../etc',
    { doc: { deployDir: '../../etc' }, code: ExitCode.registryOrConfig, error: /must not contain '\.\.'/ },
  ],
  [
    'deployDir a/../..',
    { doc: { deployDir: 'a/../..' }, code: ExitCode.registryOrConfig, error: /must not contain '\.\.'/ },
  ],
  [
    'deployDir /etc',
    { doc: { deployDir: '/etc' }, code: ExitCode.registryOrConfig, error: /must be relative/ },
  ],
  ['deployDir with NUL', { doc: { deployDir: 'a\0b' }, code: ExitCode.registryOrConfig, error: /NUL/ }],
  [
    'deployDir with backslashes',
    { doc: { deployDir: '..\\..' }, code: ExitCode.registryOrConfig, error: /backslash/ },
  ],
  [
    'deployDir missing',
    {
      doc: { deployDir: 'nope' },
      code: ExitCode.registryOrConfig,
      error: /deployDir 'nope' does not exist/,
      gitRuns: true,
    },
  ],
  [
    'deployDir is a file',
    {
      doc: { deployDir: 'deploy.sh' },
      code: ExitCode.registryOrConfig,
      error: /is not a directory/,
      gitRuns: true,
    },
  ],
];

const urlCases: Array<[string, Case]> = [
  [
    'URL with user:password',
    {
      doc: { gitUrl: 'https://user:pw@example.com/r.git' },
      code: ExitCode.registryOrConfig,
      error: /put a token in authToken/,
    },
  ],
  [
    'URL with a token as user',
    {
      doc: { gitUrl: 'https://ghp_abcdef@example.com/r.git' },
      code: ExitCode.registryOrConfig,
      error: /authToken/,
    },
  ],
  [
    'URL file:// outside local mode',
    { doc: { gitUrl: 'file:///srv/r.git' }, code: ExitCode.registryOrConfig, error: /only in local mode/ },
  ],
  [
    'URL plain http to another host',
    {
      doc: { gitUrl: 'http://example.com/r.git' },
      code: ExitCode.registryOrConfig,
      error: /uses plain http: use https/,
    },
  ],
  [
    'URL ext:: transport',
    {
      doc: { gitUrl: `ext::sh -c touch% ${join(tmpdir(), 'x')}` },
      code: ExitCode.registryOrConfig,
      error: /whitespace|remote helper/,
    },
  ],
  [
    'URL ext:: without spaces',
    { doc: { gitUrl: 'ext::/bin/false' }, code: ExitCode.registryOrConfig, error: /remote helper transport/ },
  ],
  [
    'URL git://',
    {
      doc: { gitUrl: 'git://example.com/r.git' },
      code: ExitCode.registryOrConfig,
      error: /unsupported transport 'git'/,
    },
  ],
  [
    'URL starting with -',
    {
      doc: { gitUrl: '--upload-pack=touch /tmp/x' },
      code: ExitCode.registryOrConfig,
      error: /starts with '-'|whitespace/,
    },
  ],
  [
    'URL ssh host starting with -',
    { doc: { gitUrl: 'ssh://-oProxyCommand=x/r' }, code: ExitCode.registryOrConfig, error: /invalid host/ },
  ],
  [
    'token over ssh',
    {
      doc: { gitUrl: 'git@example.com:r.git', authToken: 'token-12345678' },
      code: ExitCode.registryOrConfig,
      error: /http\(s\) URLs only/,
    },
  ],
  [
    'URL read as loopback by URL() but as 192.0.2.2 by curl',
    {
      doc: { gitUrl: 'http://127.0.0.1\\@192.0.2.2:18081/app.git' },
      code: ExitCode.registryOrConfig,
      error: /gitUrl "http:\/\/192\.0\.2\.2:18081\/app\.git" contains a backslash/,
    },
  ],
  [
    'URL with a percent-encoded @ in the authority',
    {
      doc: { gitUrl: 'http://127.0.0.1%40192.0.2.2/app.git' },
      code: ExitCode.registryOrConfig,
      error: /must not embed credentials/,
    },
  ],
  [
    'URL with a fragment hiding the host',
    {
      doc: { gitUrl: 'http://192.0.2.2#@127.0.0.1/app.git' },
      code: ExitCode.registryOrConfig,
      error: /query or fragment/,
    },
  ],
  [
    'malformed URL holding a token: the token is not echoed',
    {
      doc: { gitUrl: 'https://x-access-token:ghp_SECRETSECRET1234@github.com/o/r with space' },
      code: ExitCode.registryOrConfig,
      error: /^(?!.*SECRETSECRET).*gitUrl "https:\/\/github\.com\/o\/r with space" contains whitespace/,
    },
  ],
  [
    'basic credentials over ssh',
    {
      doc: { gitUrl: 'git@example.com:r.git', basicUsername: 'ci', basicPassword: 'password-1234' },
      code: ExitCode.registryOrConfig,
      error: /http\(s\) URLs only/,
    },
  ],
  [
    'ssh key for an https URL',
    {
      doc: { sshPrivateKey: 'key-line-12345678', sshKnownHosts: 'host ssh-ed25519 AAAA' },
      code: ExitCode.registryOrConfig,
      error: /sshPrivateKey works with ssh URLs only/,
    },
  ],
  [
    'unknown key in the document',
    { doc: { gitURL: 'https://x/y' }, code: ExitCode.registryOrConfig, error: /unknown key gitURL/ },
  ],
  [
    'command not a string or argv',
    { doc: { command: 42 }, code: ExitCode.registryOrConfig, error: /command/ },
  ],
];

const cases = [...branchCases, ...projectCases, ...deployDirCases, ...urlCases];

/** Runs the worker on a valid registry document and environment, with the case's changes on top. */
async function runCase(c: Pick<Case, 'env' | 'doc'>) {
  const doc = { gitUrl: server.url('app.git'), command: './deploy.sh', ...c.doc };
  writeFileSync(join(registry, 'app.json'), JSON.stringify(doc));
  return runWorkerProcess({
    IWOMP_REGISTRY: `file:${registry}`,
    TEST_RAN_MARKER: ran,
    PATH: `${shim.dir}:${process.env.PATH}`,
    PROJECTNAME: 'app',
    GITBRANCH: 'main',
    ...c.env,
  });
}

describe('hostile inputs to the worker', () => {
  it('deploys the valid input every case starts from, so each refusal below is the hostile value', async () => {
    // GIVEN the registry document and environment that each case changes one value of
    // WHEN the worker runs them unchanged
    const result = await runCase({});
    // THEN it clones and runs the command: a refusal below can only come from the hostile value
    expect(result.stderr).not.toMatch(/^iwomp: /m);
    expect(result.code).toBe(0);
    expect(existsSync(ran)).toBe(true);
    expect(shim.calls().some((call) => call.startsWith('fetch '))).toBe(true);
  });

  it.each(cases)('%s: one clear error, nothing run', async (_name, c) => {
    const result = await runCase(c);
    expect(result.code).toBe(c.code);
    const failures = result.stderr.split('\n').filter((l) => l.startsWith('iwomp: '));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(c.error);
    expect(existsSync(ran)).toBe(false);
    if (!c.gitRuns) expect(shim.calls()).toEqual([]);
  });
});
