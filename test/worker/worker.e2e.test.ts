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
    // GIVEN the demo project from beforeAll (token, deployDir infra, branch rules)
    // WHEN the worker runs for main
    const run = await runWorkerProcess(env());
    // THEN it ran ./deploy.sh main in src/infra for the head commit, after authenticating with the token
    expect(run.stderr).not.toMatch(/^iwomp: /m);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('deploy args: main');
    expect(run.stdout).toMatch(/deploy cwd: .*\/src\/infra$/m);
    expect(run.stdout).toContain(`project=demo branch=main commit=${mainCommit}`);
    expect(server.seenAuthorization).toContain(`Bearer ${TOKEN}`);
  });

  it('never hands a registry secret to the command, and redacts it from the command output', async () => {
    // GIVEN a deploy command that echoes the token it is handed through ECHO_ME
    // WHEN the worker runs
    const run = await runWorkerProcess(env({ ECHO_ME: `leak ${TOKEN} leak` }));
    // THEN it succeeds
    expect(run.code).toBe(0);
    // The variable carrying the token is dropped from the command's environment altogether.
    const commandEnv = readFileSync(join(out, 'env.txt'), 'utf8');
    expect(commandEnv).not.toContain(TOKEN);
    expect(commandEnv).not.toMatch(/^GIT_CONFIG_/m);
    expect(commandEnv).toMatch(/^IWOMP_COMMIT=[0-9a-f]{40}$/m);
    // AND the token appears nowhere in the output
    expect(run.stdout + run.stderr).not.toContain(TOKEN);
  });

  it('refuses a branch outside the project rules before cloning', async () => {
    // GIVEN a branch feature/x that no rule of the project allows
    repo.commit('feature/x', { 'f.txt': 'f' });
    const before = server.seenAuthorization.length;
    // WHEN the worker runs for it
    const run = await runWorkerProcess(env({ GITBRANCH: 'feature/x' }));
    // THEN it refuses with one line, and never reached the git server
    expect(run.code).toBe(ExitCode.branchNotAllowed);
    expect(run.stderr).toMatch(/^iwomp: branch 'feature\/x' may not deploy project 'demo'/m);
    expect(server.seenAuthorization.length).toBe(before);
  });

  it('deploys a branch matching a glob rule, given as refs/heads/…', async () => {
    // GIVEN the rule release/* and a branch release/1.0 (beforeAll)
    // WHEN the worker runs for refs/heads/release/1.0
    const run = await runWorkerProcess(env({ GITBRANCH: 'refs/heads/release/1.0' }));
    // THEN it deploys release/1.0
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('deploy args: release/1.0');
  });

  it('runs the command when GITCOMMIT is the branch head', async () => {
    // GIVEN a new head commit on main
    const head = repo.commit('main', { 'a.txt': 'a' });
    // WHEN the worker runs with that commit as GITCOMMIT
    const run = await runWorkerProcess(env({ GITCOMMIT: head }));
    // THEN the command runs for that commit
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`commit=${head}`);
  });

  it('is superseded, and runs nothing, when the branch has moved past GITCOMMIT', async () => {
    // GIVEN a tested commit on main, and a newer one after it
    const tested = repo.commit('main', { 'b.txt': 'b' });
    const newer = repo.commit('main', { 'c.txt': 'c' });
    // WHEN the worker runs with the tested commit
    const run = await runWorkerProcess(env({ GITCOMMIT: tested }));
    // THEN it exits superseded, naming both commits, and never runs the command
    expect(run.code).toBe(ExitCode.superseded);
    expect(run.stderr).toContain(
      `iwomp: superseded: branch 'main' is at ${newer}, not at the requested commit ${tested}`,
    );
    expect(run.stdout).not.toContain('deploy args');
  });

  it("exits with the command's own status when it fails", async () => {
    // GIVEN a deploy command that exits 7
    // WHEN the worker runs
    const run = await runWorkerProcess(env({ DEPLOY_EXIT: '7' }));
    // THEN the worker exits 7 with one line
    expect(run.code).toBe(7);
    expect(run.stderr).toMatch(/^iwomp: command failed with exit status 7$/m);
  });

  it('fails with the clone code when the token is wrong, without printing it', async () => {
    // GIVEN a project registered with the wrong token
    register('wrongtoken', {
      gitUrl: server.url('demo.git'),
      authToken: 'not-the-token-123',
      command: 'true',
    });
    // WHEN the worker runs for it
    const run = await runWorkerProcess(env({ PROJECTNAME: 'wrongtoken' }));
    // THEN it exits with the clone code, and the wrong token is not printed
    expect(run.code).toBe(ExitCode.cloneFailed);
    expect(run.stderr).toMatch(/^iwomp: git fetch of .* failed/m);
    expect(run.stderr).not.toContain('not-the-token-123');
  });

  it('fails with the clone code when the branch does not exist', async () => {
    // GIVEN a project that allows any branch
    register('anybranch', { gitUrl: server.url('demo.git'), authToken: TOKEN, command: 'true' });
    // WHEN the worker runs for a branch that does not exist
    const run = await runWorkerProcess(env({ PROJECTNAME: 'anybranch', GITBRANCH: 'nope' }));
    // THEN it exits with the clone code, naming the branch
    expect(run.code).toBe(ExitCode.cloneFailed);
    expect(run.stderr).toMatch(/^iwomp: branch 'nope' does not exist in /m);
  });

  it('clones a file:// URL only when the run is explicitly local', async () => {
    // GIVEN a project whose gitUrl is a file:// URL
    register('localpath', { gitUrl: `file://${repo.bare}`, command: ['sh', '-c', 'echo "local $0"'] });
    // WHEN the worker runs without IWOMP_LOCAL
    const refused = await runWorkerProcess(env({ PROJECTNAME: 'localpath' }));
    // THEN it refuses the registry entry
    expect(refused.code).toBe(ExitCode.registryOrConfig);
    // AND with IWOMP_LOCAL=1 the same project clones and deploys
    const local = await runWorkerProcess(env({ PROJECTNAME: 'localpath', IWOMP_LOCAL: '1' }));
    expect(local.code).toBe(0);
    expect(local.stdout).toContain('local main');
  });

  it('removes its work directory when done', async () => {
    // GIVEN an empty work directory
    const work = join(root, 'work');
    mkdirSync(work, { recursive: true });
    // WHEN the worker runs in it
    const run = await runWorkerProcess(env({ IWOMP_WORKDIR: work }));
    // THEN the directory is left, empty
    expect(run.code).toBe(0);
    expect(readdirSync(work)).toEqual([]);
    expect(existsSync(work)).toBe(true);
  });
});
