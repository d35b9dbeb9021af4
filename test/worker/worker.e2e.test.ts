import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/core/exit-codes.js';
import { type GitServer, startGitServer } from '../support/git-server.js';
import { createRepo, type FixtureRepo } from '../support/repos.js';
import { runWorkerProcess } from '../support/worker-process.js';

const TOKEN = 'tok-3f9a1c77e2b04d51a8';
// A deploy script that shows what it was given: argv, cwd, its environment, and a line that
// tries to print the token (which must come out redacted, were it ever to get it).
const DEPLOY_SH = `#!/bin/sh
echo "deploy args: $*"
echo "deploy cwd: $(pwd)"
env > "$TEST_OUT_DIR/env.txt"
echo "project=$IWOMP_PROJECT branch=$IWOMP_BRANCH commit=$IWOMP_COMMIT"
echo "$ECHO_ME"
exit "\${DEPLOY_EXIT:-0}"
`;

let root: string;
let out: string;
let registry: string;
let server: GitServer;
let repo: FixtureRepo;
let mainCommit: string;

function register(project: string, doc: Record<string, unknown>): void {
  writeFileSync(join(registry, `${project}.json`), JSON.stringify(doc));
}

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    IWOMP_REGISTRY: `file:${registry}`,
    TEST_OUT_DIR: out,
    PROJECTNAME: 'demo',
    GITBRANCH: 'main',
    ...extra,
  };
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'iwomp-worker-e2e-'));
  out = join(root, 'out');
  registry = join(root, 'registry');
  mkdirSync(out);
  mkdirSync(registry);
  repo = createRepo(root, 'demo');
  mainCommit = repo.commit('main', {
    'infra/deploy.sh': { content: DEPLOY_SH, executable: true },
    'README.md': 'x',
  });
  repo.commit('release/1.0', { 'release.txt': '1.0' });
  server = await startGitServer(root, { kind: 'token', token: TOKEN });
  register('demo', {
    gitUrl: server.url('demo.git'),
    authToken: TOKEN,
    deployDir: 'infra',
    command: './deploy.sh',
    branches: ['main', 'release/*'],
  });
});

afterAll(async () => {
  await server.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('worker end to end (dist/worker.js, git http-backend, folder registry)', () => {
  it('clones the branch with the token and runs the command in deployDir with the branch as last argument', async () => {
    const run = await runWorkerProcess(env());
    expect(run.stderr).not.toMatch(/^iwomp: /m);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('deploy args: main');
    expect(run.stdout).toMatch(/deploy cwd: .*\/src\/infra$/m);
    expect(run.stdout).toContain(`project=demo branch=main commit=${mainCommit}`);
    expect(server.seenAuthorization).toContain(`Bearer ${TOKEN}`);
  });

  it('never hands a registry secret to the command, and redacts it from the command output', async () => {
    const run = await runWorkerProcess(env({ ECHO_ME: `leak ${TOKEN} leak` }));
    expect(run.code).toBe(0);
    // The variable carrying the token is dropped from the command's environment altogether.
    const commandEnv = readFileSync(join(out, 'env.txt'), 'utf8');
    expect(commandEnv).not.toContain(TOKEN);
    expect(commandEnv).not.toMatch(/^GIT_CONFIG_/m);
    expect(commandEnv).toMatch(/^IWOMP_COMMIT=[0-9a-f]{40}$/m);
    expect(run.stdout + run.stderr).not.toContain(TOKEN);
  });

  it('refuses a branch outside the project rules before cloning', async () => {
    repo.commit('feature/x', { 'f.txt': 'f' });
    const before = server.seenAuthorization.length;
    const run = await runWorkerProcess(env({ GITBRANCH: 'feature/x' }));
    expect(run.code).toBe(ExitCode.branchNotAllowed);
    expect(run.stderr).toMatch(/^iwomp: branch 'feature\/x' may not deploy project 'demo'/m);
    expect(server.seenAuthorization.length).toBe(before);
  });

  it('deploys a branch matching a glob rule, given as refs/heads/…', async () => {
    const run = await runWorkerProcess(env({ GITBRANCH: 'refs/heads/release/1.0' }));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('deploy args: release/1.0');
  });

  it('runs the command when GITCOMMIT is the branch head', async () => {
    const head = repo.commit('main', { 'a.txt': 'a' });
    const run = await runWorkerProcess(env({ GITCOMMIT: head }));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`commit=${head}`);
  });

  it('is superseded, and runs nothing, when the branch has moved past GITCOMMIT', async () => {
    const tested = repo.commit('main', { 'b.txt': 'b' });
    const newer = repo.commit('main', { 'c.txt': 'c' });
    const run = await runWorkerProcess(env({ GITCOMMIT: tested }));
    expect(run.code).toBe(ExitCode.superseded);
    expect(run.stderr).toContain(
      `iwomp: superseded: branch 'main' is at ${newer}, not at the requested commit ${tested}`,
    );
    expect(run.stdout).not.toContain('deploy args');
  });

  it("exits with the command's own status when it fails", async () => {
    const run = await runWorkerProcess(env({ DEPLOY_EXIT: '7' }));
    expect(run.code).toBe(7);
    expect(run.stderr).toMatch(/^iwomp: command failed with exit status 7$/m);
  });

  it('fails with the clone code when the token is wrong, without printing it', async () => {
    register('wrongtoken', {
      gitUrl: server.url('demo.git'),
      authToken: 'not-the-token-123',
      command: 'true',
    });
    const run = await runWorkerProcess(env({ PROJECTNAME: 'wrongtoken' }));
    expect(run.code).toBe(ExitCode.cloneFailed);
    expect(run.stderr).toMatch(/^iwomp: git fetch of .* failed/m);
    expect(run.stderr).not.toContain('not-the-token-123');
  });

  it('fails with the clone code when the branch does not exist', async () => {
    register('anybranch', { gitUrl: server.url('demo.git'), authToken: TOKEN, command: 'true' });
    const run = await runWorkerProcess(env({ PROJECTNAME: 'anybranch', GITBRANCH: 'nope' }));
    expect(run.code).toBe(ExitCode.cloneFailed);
    expect(run.stderr).toMatch(/^iwomp: branch 'nope' does not exist in /m);
  });

  it('clones a file:// URL only when the run is explicitly local', async () => {
    register('localpath', { gitUrl: `file://${repo.bare}`, command: ['sh', '-c', 'echo "local $0"'] });
    const refused = await runWorkerProcess(env({ PROJECTNAME: 'localpath' }));
    expect(refused.code).toBe(ExitCode.registryOrConfig);
    const local = await runWorkerProcess(env({ PROJECTNAME: 'localpath', IWOMP_LOCAL: '1' }));
    expect(local.code).toBe(0);
    expect(local.stdout).toContain('local main');
  });

  it('removes its work directory when done', async () => {
    const work = join(root, 'work');
    mkdirSync(work, { recursive: true });
    const run = await runWorkerProcess(env({ IWOMP_WORKDIR: work }));
    expect(run.code).toBe(0);
    expect(readdirSync(work)).toEqual([]);
    expect(existsSync(work)).toBe(true);
  });
});
