import { createHash } from 'node:crypto';
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
import { join, relative } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CloneError } from '../../src/core/errors.js';
import { ExitCode } from '../../src/core/exit-codes.js';
import { type GitRemote, parseGitUrl } from '../../src/core/git-url.js';
import { Redactor } from '../../src/core/redact.js';
import { fetchBranch } from '../../src/worker/git-fetch.js';
import { type GitServer, git, startGitServer } from '../support/git-server.js';
import { createGitShim, type GitShim } from '../support/git-shim.js';
import { createRepo, type FixtureRepo } from '../support/repos.js';
import { runWorkerProcess } from '../support/worker-process.js';

const TOKEN = 'tok-8c1e55a0d93f4e2b';
const USER = 'deployer';
const PASSWORD = 'pw-77e1b0c2a9d84f';

let root: string;
let registry: string;
let marker: string;
let ran: string;
let shim: GitShim;
let appRepo: FixtureRepo;
let tokenServer: GitServer;
let basicServer: GitServer;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'iwomp-security-'));
  registry = join(root, 'registry');
  marker = join(root, 'pwned');
  ran = join(root, 'command-ran');
  mkdirSync(registry);
  const repo = createRepo(root, 'app');
  appRepo = repo;
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

/** A fetch straight into fetchBranch, as if every check before it had been skipped. */
function directFetch(remote: GitRemote, branch: string, name: string) {
  return fetchBranch({
    remote,
    auth: { kind: 'none' },
    branch,
    dir: join(root, name),
    secretsDir: join(root, `${name}-auth`),
    redactor: new Redactor([]),
    stderr: { write: () => true } as unknown as NodeJS.WritableStream as never,
    env: { ...process.env, PATH: `${shim.dir}:${process.env.PATH}` },
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

  it("redacts git's own messages: a git that prints its GIT_CONFIG_VALUE_* shows Bearer ***", async () => {
    // GIVEN a git on PATH that prints the config git is given in its environment, then runs git
    const loud = join(root, 'loud-git');
    mkdirSync(loud, { recursive: true });
    writeFileSync(
      join(loud, 'git'),
      `#!/bin/sh\nenv | grep '^GIT_CONFIG_VALUE_' >&2\nexec '${shim.dir}/git' "$@"\n`,
      { mode: 0o755 },
    );
    register('token', { gitUrl: tokenServer.url('app.git'), authToken: TOKEN, command: './deploy.sh' });
    // WHEN the worker fetches with the token
    const result = await run({ PROJECTNAME: 'token', PATH: `${loud}:${process.env.PATH}` });
    // THEN the header git printed reaches the log with the token replaced
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('Authorization: Bearer ***');
    expect(result.stdout + result.stderr).not.toContain(TOKEN);
  });

  it("redacts the worker's running and failure lines when a secret is part of the registry's command", async () => {
    // GIVEN a command whose program name holds the project's token (a careless registry entry)
    register('secretcommand', {
      gitUrl: tokenServer.url('app.git'),
      authToken: TOKEN,
      command: [`./deploy-${TOKEN}.sh`, TOKEN],
    });
    // WHEN the worker runs it (it does not exist)
    const result = await run({ PROJECTNAME: 'secretcommand' });
    // THEN both the progress line and the one failure line show *** instead of the token
    expect(result.code).toBe(ExitCode.commandNotFound);
    expect(result.stderr).toContain('[iwomp] running ["./deploy-***.sh","***","main"] in .');
    expect(result.stderr).toMatch(/^iwomp: command "\.\/deploy-\*\*\*\.sh" not found/m);
    expect(result.stdout + result.stderr).not.toContain(TOKEN);
  });

  it("redacts the command's output, even of a secret it did not get from its environment", async () => {
    // GIVEN a deploy script that prints a file holding the token, on stdout and on stderr
    const secretFile = join(root, 'secret-file');
    writeFileSync(secretFile, `${TOKEN}\n`);
    const repo = createRepo(root, 'printer');
    repo.commit('main', {
      'deploy.sh': {
        content: '#!/bin/sh\necho "out: $(cat "$SECRET_FILE")"\necho "err: $(cat "$SECRET_FILE")" >&2\n',
        executable: true,
      },
    });
    register('printer', { gitUrl: tokenServer.url('printer.git'), authToken: TOKEN, command: './deploy.sh' });
    // WHEN the worker runs it
    const result = await run({ PROJECTNAME: 'printer', SECRET_FILE: secretFile });
    // THEN the token is *** on both streams
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('out: ***\n');
    expect(result.stderr).toContain('err: ***\n');
    expect(result.stdout + result.stderr).not.toContain(TOKEN);
  });
});

describe('what git fetches and runs', () => {
  it('fetches the branch, never a tag of the same name', async () => {
    // GIVEN a repository whose tag `main` points at another commit than the branch `main`
    const repo = createRepo(root, 'tagged');
    const script = { content: '#!/bin/sh\necho "commit $IWOMP_COMMIT"\n', executable: true };
    const branchHead = repo.commit('main', { 'deploy.sh': script });
    const tagged = repo.commit('other', { 'other.txt': 'not main' });
    git(repo.work, 'tag', 'main', tagged);
    git(repo.work, 'push', '--quiet', 'origin', 'refs/tags/main:refs/tags/main');
    register('tagged', { gitUrl: tokenServer.url('tagged.git'), authToken: TOKEN, command: './deploy.sh' });
    // WHEN a trigger for `main` comes without a commit
    const result = await run({ PROJECTNAME: 'tagged' });
    // THEN the branch's commit is the one deployed
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`commit ${branchHead}\n`);
    expect(result.stderr).toContain(`checked out ${branchHead}`);
  });

  it('fails the clone when any git step fails, not only the fetch', async () => {
    // GIVEN a git whose checkout step (reset) fails
    const broken = join(root, 'broken-git');
    mkdirSync(broken, { recursive: true });
    writeFileSync(
      join(broken, 'git'),
      `#!/bin/sh\nif [ "$1" = reset ]; then echo "fatal: disk full" >&2; exit 7; fi\nexec '${shim.dir}/git' "$@"\n`,
      { mode: 0o755 },
    );
    // WHEN a branch is fetched with it
    const attempt = fetchBranch({
      remote: parseGitUrl(`file://${appRepo.bare}`),
      auth: { kind: 'none' },
      branch: 'main',
      dir: join(root, 'reset-fails'),
      secretsDir: join(root, 'reset-fails-auth'),
      redactor: new Redactor([]),
      stderr: { write: () => true } as unknown as NodeJS.WritableStream as never,
      env: { ...process.env, PATH: `${broken}:${process.env.PATH}` },
    });
    // THEN the step's failure is the clone's, with git's own last line
    await expect(attempt).rejects.toThrow(CloneError);
    await expect(attempt).rejects.toThrow(/^git reset failed \(exit 7\): disk full$/);
  });

  it('says so when git cannot be run at all', async () => {
    const attempt = fetchBranch({
      remote: parseGitUrl(`file://${appRepo.bare}`),
      auth: { kind: 'none' },
      branch: 'main',
      dir: join(root, 'no-git'),
      secretsDir: join(root, 'no-git-auth'),
      redactor: new Redactor([]),
      stderr: { write: () => true } as unknown as NodeJS.WritableStream as never,
      env: { ...process.env, PATH: join(root, 'nowhere') },
    });
    await expect(attempt).rejects.toThrow(/^cannot run git: spawn git ENOENT$/);
  });

  it('uses only the transport of the remote: a file:// URL marked as https is refused by git', async () => {
    // GIVEN a remote that claims https but is a local path (as a broken URL check could let through)
    const remote: GitRemote = { url: `file://${appRepo.bare}`, transport: 'https', loopback: false };
    shim.reset();
    // WHEN it is fetched
    const attempt = directFetch(remote, 'main', 'mislabelled');
    // THEN git refuses the transport the remote does not declare
    await expect(attempt).rejects.toThrow(CloneError);
    await expect(attempt).rejects.toThrow(/transport 'file' not allowed/);
    expect(shim.calls().some((call) => call.startsWith('fetch '))).toBe(true);
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

  it('runs nothing over file://, where --upload-pack is honoured, and reaches git only after --end-of-options', async () => {
    // GIVEN a branch that is an --upload-pack option without a space (so git init accepts it),
    // and a file:// remote, whose transport runs the upload-pack program it is given
    const branch = `--upload-pack=touch$IFS${marker}`;
    const url = `file://${appRepo.bare}`;
    shim.reset();
    // WHEN it reaches the fetch step unchecked
    const error = await directFetch(parseGitUrl(url), branch, 'option-branch').catch((e: unknown) => e);
    // THEN it ran nothing, and failed for want of such a branch
    expect(existsSync(marker)).toBe(false);
    expect(error).toBeInstanceOf(CloneError);
    expect((error as Error).message).toMatch(/does not exist/);
    // AND git saw the branch and the URL only after --end-of-options
    const argvs = shim.argvs();
    const remoteAdd = argvs.find((argv) => argv[0] === 'remote');
    const fetch = argvs.find((argv) => argv[0] === 'fetch');
    expect(remoteAdd?.slice(-3)).toEqual(['--end-of-options', 'origin', url]);
    expect(fetch).toBeDefined();
    const end = fetch?.indexOf('--end-of-options') ?? -1;
    expect(end).toBeGreaterThan(0);
    expect(fetch?.slice(end + 1, end + 2)).toEqual(['origin']);
    const withBranch = (fetch ?? []).flatMap((arg, i) => (arg.includes(branch) ? [i] : []));
    expect(withBranch.length).toBeGreaterThan(0);
    expect(withBranch.every((i) => i > end)).toBe(true);
  });
});

describe("the caller's git environment", () => {
  it('cannot point the worker at another repository, and gives the command no GIT_CONFIG_*', async () => {
    // GIVEN a worker started as from inside a git hook of another repository, with inherited config
    const other = createRepo(root, 'bystander');
    other.commit('main', { 'keep.txt': 'keep' });
    const before = snapshot(other.work);
    const envFile = join(root, 'hooked-env');
    const repo = createRepo(root, 'hooked');
    repo.commit('main', { 'deploy.sh': { content: '#!/bin/sh\nenv > "$ENV_FILE"\n', executable: true } });
    register('hooked', { gitUrl: tokenServer.url('hooked.git'), authToken: TOKEN, command: './deploy.sh' });
    // WHEN the worker deploys
    const result = await run({
      PROJECTNAME: 'hooked',
      ENV_FILE: envFile,
      GIT_DIR: join(other.work, '.git'),
      GIT_WORK_TREE: other.work,
      GIT_INDEX_FILE: join(other.work, '.git', 'index'),
      GIT_OBJECT_DIRECTORY: join(other.work, '.git', 'objects'),
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'user.name',
      GIT_CONFIG_VALUE_0: 'inherited',
    });
    // THEN it deploys, the other repository is untouched, and the command sees no git config
    expect(result.stderr).not.toMatch(/^iwomp: /m);
    expect(result.code).toBe(0);
    expect(snapshot(other.work)).toEqual(before);
    const commandEnv = readFileSync(envFile, 'utf8');
    expect(commandEnv).toMatch(/^ENV_FILE=/m);
    expect(commandEnv).not.toMatch(/^GIT_CONFIG_/m);
  });
});

/** Every file under a directory with a hash of its content: equal snapshots, untouched tree. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else files[relative(dir, path)] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  walk(dir);
  return files;
}

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
  it("stops the command's whole process group on SIGTERM, and reports the command killed", async () => {
    // GIVEN a deploy command that waits on a child of its own, which notes the signal it gets
    const ready = join(root, 'group-ready');
    const term = join(root, 'group-term');
    const repo = createRepo(root, 'group');
    repo.commit('main', {
      'deploy.sh': {
        content: `#!/bin/sh\nsh -c 'trap "echo got-term > ${term}; exit 0" TERM; touch ${ready}; i=0; while [ $i -lt 400 ]; do i=$((i+1)); sleep 0.05; done' &\nwait\n`,
        executable: true,
      },
    });
    register('group', { gitUrl: tokenServer.url('group.git'), authToken: TOKEN, command: './deploy.sh' });
    let pid = 0;
    const running = runWorkerProcess(
      { IWOMP_REGISTRY: `file:${registry}`, PROJECTNAME: 'group', GITBRANCH: 'main' },
      { onSpawn: (p) => (pid = p) },
    );
    while (!existsSync(ready)) await new Promise((r) => setTimeout(r, 20));
    // WHEN the worker is stopped as CodeBuild stops a build
    process.kill(pid, 'SIGTERM');
    const result = await running;
    // THEN the command's child got the signal too, and the worker says the command was killed
    expect(readFileSync(term, 'utf8')).toBe('got-term\n');
    expect(result.code).toBe(143);
    expect(result.stderr).toMatch(/^iwomp: command was killed by SIGTERM$/m);
  });

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
