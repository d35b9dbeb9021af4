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
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CloneError } from '../../src/core/errors.js';
import { ExitCode } from '../../src/core/exit-codes.js';
import { parseGitUrl } from '../../src/core/git-url.js';
import { Redactor } from '../../src/core/redact.js';
import { fetchBranch } from '../../src/worker/git-fetch.js';
import { type GitServer, git, startGitServer } from '../support/git-server.js';
import { createGitShim, type GitShim } from '../support/git-shim.js';
import { createRepo } from '../support/repos.js';
import { runWorkerProcess } from '../support/worker-process.js';

const TOKEN = 'tok-8c1e55a0d93f4e2b';
const USER = 'deployer';
const PASSWORD = 'pw-77e1b0c2a9d84f';

let root: string;
let registry: string;
let marker: string;
let ran: string;
let shim: GitShim;
let tokenServer: GitServer;
let basicServer: GitServer;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'iwomp-security-'));
  registry = join(root, 'registry');
  marker = join(root, 'pwned');
  ran = join(root, 'command-ran');
  mkdirSync(registry);
  const repo = createRepo(root, 'app');
  repo.commit('main', {
    'deploy.sh': { content: '#!/bin/sh\necho "deployed $1"\ntouch "$TEST_RAN_MARKER"\n', executable: true },
    'infra/.keep': '',
  });
  // What a hostile branch could do: link its deploy dir out of the clone.
  git(repo.work, 'checkout', '--quiet', '-b', 'evil');
  symlinkSync('/', join(repo.work, 'escape'));
  symlinkSync('../..', join(repo.work, 'up'));
  git(repo.work, 'add', '--all');
  git(repo.work, 'commit', '--quiet', '-m', 'links');
  git(repo.work, 'push', '--quiet', 'origin', 'evil');

  tokenServer = await startGitServer(root, { kind: 'token', token: TOKEN });
  basicServer = await startGitServer(root, { kind: 'basic', username: USER, password: PASSWORD });

  shim = createGitShim(root);
});

beforeEach(() => {
  rmSync(ran, { force: true });
  rmSync(marker, { force: true });
});

afterAll(async () => {
  await tokenServer.stop();
  await basicServer.stop();
  rmSync(root, { recursive: true, force: true });
});

function register(project: string, doc: Record<string, unknown>): void {
  writeFileSync(join(registry, `${project}.json`), JSON.stringify(doc));
}

function run(extra: Record<string, string>) {
  return runWorkerProcess({
    IWOMP_REGISTRY: `file:${registry}`,
    TEST_RAN_MARKER: ran,
    PATH: `${shim.dir}:${process.env.PATH}`,
    PROJECTNAME: 'app',
    GITBRANCH: 'main',
    ...extra,
  });
}

describe('credentials', () => {
  it('never appear in git argv or .git/config, and basic auth reaches the server', async () => {
    register('basic', {
      gitUrl: basicServer.url('app.git'),
      basicUsername: USER,
      basicPassword: PASSWORD,
      command: './deploy.sh',
    });
    register('token', { gitUrl: tokenServer.url('app.git'), authToken: TOKEN, command: './deploy.sh' });
    shim.reset();
    const work = join(root, 'kept');
    mkdirSync(work);
    for (const project of ['basic', 'token']) {
      const result = await run({ PROJECTNAME: project, IWOMP_WORKDIR: work, IWOMP_KEEP_WORKDIR: '1' });
      expect(result.stderr).not.toMatch(/^iwomp: /m);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('deployed main');
    }
    const argv = shim.calls().join('\n');
    expect(argv).toContain('fetch');
    for (const secret of [TOKEN, PASSWORD, Buffer.from(`${USER}:${PASSWORD}`).toString('base64')]) {
      expect(argv).not.toContain(secret);
    }
    const kept = readdirSync(work);
    expect(kept).toHaveLength(2);
    for (const dir of kept) {
      const config = readFileSync(join(work, dir, 'src/.git/config'), 'utf8');
      expect(config).toContain('[remote "origin"]');
      expect(config).not.toContain(TOKEN);
      expect(config).not.toContain(PASSWORD);
      // Credential files of an SSH fetch are gone too; the token never had any.
      expect(existsSync(join(work, dir, 'auth'))).toBe(false);
    }
  });

  it('a wrong password fails the clone, and the message holds no secret', async () => {
    register('wrongpass', {
      gitUrl: basicServer.url('app.git'),
      basicUsername: USER,
      basicPassword: 'wrong-password-1',
      command: './deploy.sh',
    });
    const result = await run({ PROJECTNAME: 'wrongpass' });
    expect(result.code).toBe(ExitCode.cloneFailed);
    expect(result.stderr).not.toContain('wrong-password-1');
    expect(result.stderr).not.toContain(Buffer.from(`${USER}:wrong-password-1`).toString('base64'));
  });
});

describe('a branch that looks like an option', () => {
  it('is refused by the worker before git runs', async () => {
    shim.reset();
    const result = await run({ GITBRANCH: `--upload-pack=touch ${marker}` });
    expect(result.code).toBe(ExitCode.badEnvironment);
    expect(shim.calls()).toEqual([]);
    expect(existsSync(marker)).toBe(false);
  });

  it('runs nothing even when it reaches the fetch step unchecked', async () => {
    const dir = join(root, 'direct');
    const attempt = fetchBranch({
      remote: parseGitUrl(tokenServer.url('app.git')),
      auth: { kind: 'token', token: TOKEN },
      branch: `--upload-pack=touch ${marker}`,
      dir,
      secretsDir: join(root, 'direct-auth'),
      redactor: new Redactor([TOKEN]),
      stderr: { write: () => true } as unknown as NodeJS.WritableStream as never,
      env: process.env,
    });
    await expect(attempt).rejects.toThrow(CloneError);
    expect(existsSync(marker)).toBe(false);
  });
});

describe('deployDir through symlinks', () => {
  it.each(['escape', 'up', 'escape/tmp'])(
    'refuses %s leading out of the clone, and runs nothing',
    async (deployDir) => {
      register('evil', { gitUrl: tokenServer.url('app.git'), authToken: TOKEN, deployDir, command: 'true' });
      const result = await run({ PROJECTNAME: 'evil', GITBRANCH: 'evil' });
      expect(result.code).toBe(ExitCode.registryOrConfig);
      expect(result.stderr).toMatch(/^iwomp: deployDir '.*' leads outside the repository/m);
      expect(existsSync(ran)).toBe(false);
    },
  );
});

describe('signals', () => {
  it('forwards SIGTERM to the command, and exits with its status', async () => {
    const ready = join(root, 'ready');
    const term = join(root, 'term');
    const repo = createRepo(root, 'slow');
    repo.commit('main', {
      'deploy.sh': {
        content: `#!/bin/sh\ntrap 'echo got-term > "${term}"; exit 3' TERM\ntouch "${ready}"\nwhile true; do sleep 0.05; done\n`,
        executable: true,
      },
    });
    register('slow', { gitUrl: tokenServer.url('slow.git'), authToken: TOKEN, command: './deploy.sh' });
    let pid = 0;
    const running = runWorkerProcess(
      { IWOMP_REGISTRY: `file:${registry}`, PROJECTNAME: 'slow', GITBRANCH: 'main' },
      { onSpawn: (p) => (pid = p) },
    );
    while (!existsSync(ready)) await new Promise((r) => setTimeout(r, 20));
    process.kill(pid, 'SIGTERM');
    const result = await running;
    expect(readFileSync(term, 'utf8')).toBe('got-term\n');
    expect(result.code).toBe(3);
  });
});
