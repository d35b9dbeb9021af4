import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloneError } from '../../src/core/errors.js';
import { ExitCode } from '../../src/core/exit-codes.js';
import { parseGitUrl } from '../../src/core/git-url.js';
import { Redactor } from '../../src/core/redact.js';
import { fetchBranch } from '../../src/worker/git-fetch.js';
import { type GitServer, git, startGitServer } from '../support/git-server.js';
import { createGitShim, type GitShim } from '../support/git-shim.js';
import { createRepo } from '../support/repos.js';
import { runWorkerProcess } from '../support/worker-process.js';

const USER = 'deployer';
const PASSWORD = 'pw-5d0c7a19e2b34f';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

let root: string;
let registry: string;
let shim: GitShim;
let commit: string;
/** Serves partial clones; one per test that counts requests, so the counts are its own. */
let filtering: GitServer;
/** Ignores `--filter`, as git's default server does. */
let plain: GitServer;

// A monorepo: the deploy lives in infra/, needs libs/shared/, and app/ is what it must not fetch.
const FILES = {
  'README.md': 'root file\n',
  'infra/deploy.sh': {
    content: '#!/bin/sh\ncat ../libs/shared/lib.txt\nls .. > "$TEST_LS"\necho "deployed $1"\n',
    executable: true,
  },
  'libs/README.md': 'parent of shared\n',
  'libs/shared/lib.txt': 'shared library\n',
  'libs/other/big.txt': 'not needed\n'.repeat(1000),
  'app/src/main.txt': 'application code\n'.repeat(1000),
  'app/assets/logo.txt': 'logo\n'.repeat(1000),
};

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'iwomp-sparse-'));
  registry = join(root, 'registry');
  mkdirSync(registry);
  const repo = createRepo(root, 'mono');
  commit = repo.commit('main', FILES);
  // A branch whose deploy dir is a link out of the clone.
  git(repo.work, 'checkout', '--quiet', '-b', 'evil');
  symlinkSync('../../..', join(repo.work, 'infra/out'));
  git(repo.work, 'add', '--all');
  git(repo.work, 'commit', '--quiet', '-m', 'link');
  git(repo.work, 'push', '--quiet', 'origin', 'evil');
  filtering = await startGitServer(
    root,
    { kind: 'basic', username: USER, password: PASSWORD },
    { allowFilter: true },
  );
  plain = await startGitServer(root, { kind: 'basic', username: USER, password: PASSWORD });
  shim = createGitShim(root);
});

afterAll(async () => {
  await filtering.stop();
  await plain.stop();
  rmSync(root, { recursive: true, force: true });
});

function register(project: string, doc: Record<string, unknown>): void {
  writeFileSync(
    join(registry, `${project}.json`),
    JSON.stringify({ basicUsername: USER, basicPassword: PASSWORD, command: './deploy.sh', ...doc }),
  );
}

/** Runs the worker and keeps its clone; returns the run and the clone's path. */
async function deploy(project: string, extra: Record<string, string> = {}) {
  const work = mkdtempSync(join(root, `jobs-${project}-`));
  const ls = join(work, 'ls');
  const result = await runWorkerProcess({
    IWOMP_REGISTRY: `file:${registry}`,
    IWOMP_WORKDIR: work,
    IWOMP_KEEP_WORKDIR: '1',
    TEST_LS: ls,
    PATH: `${shim.dir}:${process.env.PATH}`,
    PROJECTNAME: project,
    GITBRANCH: 'main',
    ...extra,
  });
  const [job] = readdirSync(work).filter((d) => d.startsWith('iwomp-'));
  return { result, clone: join(work, job ?? 'none', 'src'), ls };
}

/** Objects of HEAD that the clone does not hold (a partial clone's promised blobs). */
function missingObjects(clone: string): string[] {
  return execFileSync('git', ['rev-list', '--objects', '--missing=print', 'HEAD'], {
    cwd: clone,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((line) => line.startsWith('?'));
}

/** Paths of HEAD whose blobs the clone holds. */
function presentFiles(clone: string): string[] {
  const tree = execFileSync('git', ['ls-tree', '-r', '--format=%(objectname) %(path)', 'HEAD'], {
    cwd: clone,
    encoding: 'utf8',
    env: { ...process.env, GIT_NO_LAZY_FETCH: '1' },
  });
  const missing = new Set(missingObjects(clone).map((line) => line.slice(1)));
  return tree
    .trim()
    .split('\n')
    .map((line) => line.split(' '))
    .filter(([oid]) => !missing.has(oid ?? ''))
    .map(([, path]) => path ?? '')
    .sort();
}

describe('a deployDir below the root, on a server that serves partial clones', () => {
  it('fetches and checks out only deployDir, sparsePaths and the files of their parents', async () => {
    // GIVEN a project deploying infra/ with the shared library libs/shared/
    register('mono', { gitUrl: filtering.url('mono.git'), deployDir: 'infra', sparsePaths: ['libs/shared'] });
    shim.reset();
    // WHEN the worker deploys it
    const { result, clone, ls } = await deploy('mono');
    // THEN the deploy ran in infra/ and read the shared library
    expect(result.stderr).not.toMatch(/^iwomp: /m);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('shared library\ndeployed main');
    expect(result.stderr).toContain('[iwomp] partial clone: fetching the files of infra, libs/shared');
    // AND the repository holds the blobs of those paths and of the root's and libs/'s files only
    expect(presentFiles(clone)).toEqual([
      'README.md',
      'infra/deploy.sh',
      'libs/README.md',
      'libs/shared/lib.txt',
    ]);
    expect(missingObjects(clone)).toHaveLength(3);
    // AND the index holds the directories outside the cone as single entries (sparse index)
    expect(execFileSync('git', ['config', 'index.sparse'], { cwd: clone, encoding: 'utf8' }).trim()).toBe(
      'true',
    );
    // AND nothing else is in the working tree
    expect(readFileSync(ls, 'utf8').split('\n').filter(Boolean).sort()).toEqual([
      'README.md',
      'infra',
      'libs',
    ]);
    expect(existsSync(join(clone, 'app'))).toBe(false);
    expect(existsSync(join(clone, 'libs/other'))).toBe(false);
  });

  it('sends the credentials to the lazy blob fetch, and writes them nowhere', async () => {
    // GIVEN a server of its own (its request log is this test's alone) that refuses requests without credentials
    const server = await startGitServer(
      root,
      { kind: 'basic', username: USER, password: PASSWORD },
      { allowFilter: true },
    );
    try {
      register('creds', { gitUrl: server.url('mono.git'), deployDir: 'infra' });
      shim.reset();
      // WHEN the worker deploys
      const { result, clone } = await deploy('creds');
      // THEN the checkout's own fetch of the blobs reached the server with the credentials
      expect(result.code).toBe(0);
      const fetches = server.seenRequests.filter((r) => r.startsWith('POST /mono.git/git-upload-pack'));
      expect(fetches.length).toBeGreaterThanOrEqual(2); // the fetch, then the checkout's lazy one
      expect(new Set(server.seenAuthorization)).toEqual(new Set([BASIC]));
      // AND the promisor settings git wrote hold no secret, nor does argv
      const config = readFileSync(join(clone, '.git/config'), 'utf8');
      expect(config).toMatch(/promisor = true/);
      expect(config).toMatch(/partialclonefilter = blob:none/);
      for (const file of ['.git/config', '.git/config.worktree']) {
        const text = readFileSync(join(clone, file), 'utf8');
        expect(text).not.toContain(PASSWORD);
        expect(text).not.toContain(BASIC.slice('Basic '.length));
      }
      const argv = shim.calls().join('\n');
      expect(argv).toContain('--filter=blob:none');
      expect(argv).not.toContain(PASSWORD);
      expect(argv).not.toContain(BASIC.slice('Basic '.length));
    } finally {
      await server.stop();
    }
  });

  it('checks the commit before anything is checked out or any blob fetched', async () => {
    // GIVEN CI tested another commit than the branch head
    register('stale', { gitUrl: filtering.url('mono.git'), deployDir: 'infra' });
    // WHEN the worker deploys
    const { result, clone } = await deploy('stale', { GITCOMMIT: 'a'.repeat(40) });
    // THEN the job is superseded, and the clone holds no file and no blob
    expect(result.code).toBe(ExitCode.superseded);
    expect(readdirSync(clone)).toEqual(['.git']);
    expect(presentFiles(clone)).toEqual([]);
  });

  it('deploys the commit CI tested', async () => {
    register('tested', { gitUrl: filtering.url('mono.git'), deployDir: 'infra' });
    const { result } = await deploy('tested', { GITCOMMIT: commit });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`checked out ${commit}`);
  });

  it('refuses a deployDir that links out of the clone, and runs nothing', async () => {
    // GIVEN a branch whose infra/out is a symlink to ../../..
    register('evil', { gitUrl: filtering.url('mono.git'), deployDir: 'infra/out', command: 'true' });
    // WHEN the worker deploys it
    const { result } = await deploy('evil', { GITBRANCH: 'evil' });
    // THEN the sparse clone refuses it as the full one does
    expect(result.code).toBe(ExitCode.registryOrConfig);
    expect(result.stderr).toMatch(/^iwomp: deployDir 'infra\/out' leads outside the repository/m);
  });

  it('hands a branch that looks like an option to git only after --end-of-options', async () => {
    // GIVEN a branch name that would run a program if git read it as an option
    const marker = join(root, 'pwned');
    const attempt = fetchBranch({
      remote: parseGitUrl(filtering.url('mono.git')),
      auth: { kind: 'basic', username: USER, password: PASSWORD },
      branch: `--upload-pack=touch ${marker}`,
      dir: join(root, 'direct'),
      secretsDir: join(root, 'direct-auth'),
      redactor: new Redactor([PASSWORD]),
      stderr: { write: () => true } as never,
      env: process.env,
      sparsePaths: ['infra'],
    });
    // WHEN / THEN the fetch fails as a clone error, and nothing ran
    await expect(attempt).rejects.toThrow(CloneError);
    expect(existsSync(marker)).toBe(false);
  });

  it('fetches the whole tree when sparseCheckout is false', async () => {
    register('whole', { gitUrl: filtering.url('mono.git'), deployDir: 'infra', sparseCheckout: false });
    const { result, clone } = await deploy('whole');
    expect(result.code).toBe(0);
    expect(missingObjects(clone)).toEqual([]);
    expect(existsSync(join(clone, 'app/src/main.txt'))).toBe(true);
    expect(readFileSync(join(clone, '.git/config'), 'utf8')).not.toContain('promisor');
  });
});

describe('a deployDir below the root, on a server that ignores filters', () => {
  it('falls back to the full shallow fetch, says so, and still checks out sparsely', async () => {
    // GIVEN a server without uploadpack.allowFilter
    register('fallback', { gitUrl: plain.url('mono.git'), deployDir: 'infra', sparsePaths: ['libs/shared'] });
    // WHEN the worker deploys
    const { result, clone } = await deploy('fallback');
    // THEN it deploys, the log says every file was fetched, and the clone holds every blob
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('deployed main');
    expect(result.stderr).toMatch(
      /\[iwomp\] .* does not support partial clone .*: fetched every file of the commit/,
    );
    expect(missingObjects(clone)).toEqual([]);
    expect(existsSync(join(clone, 'app'))).toBe(false);
  });
});

describe('git processes the worker runs', () => {
  const steps = () => shim.calls().map((argv) => argv.split(' ').slice(0, 2).join(' '));

  it('are init, remote add, fetch and reset for the whole tree: the commit is read from FETCH_HEAD', async () => {
    // GIVEN a project deploying from the root
    register('root', { gitUrl: filtering.url('mono.git'), command: './infra/deploy.sh' });
    shim.reset();
    // WHEN the worker deploys it, with the commit CI tested
    const { result } = await deploy('root', { GITCOMMIT: commit });
    // THEN four git processes ran, and the commit was still checked
    expect(result.stderr).toContain(`checked out ${commit}`);
    expect(steps()).toEqual(['init --quiet', 'remote add', 'fetch --quiet', 'reset --quiet']);
  });

  it('add one sparse-checkout step for a deployDir below the root', async () => {
    register('sparse', { gitUrl: filtering.url('mono.git'), deployDir: 'infra' });
    shim.reset();
    const { result } = await deploy('sparse');
    expect(result.code).toBe(0);
    expect(steps()).toEqual([
      'init --quiet',
      'remote add',
      'sparse-checkout set',
      'fetch --quiet',
      'reset --quiet',
    ]);
  });
});
