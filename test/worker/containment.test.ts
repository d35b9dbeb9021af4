/**
 * What a deploy command gets and what it can reach: the project's own role through STS (moto),
 * nothing of the worker's identity, environment or memory, and, when the worker may switch, the
 * rights of an unprivileged user only. The worker is the built bundle, as CodeBuild runs it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/core/exit-codes.js';
import { type Moto, startMoto } from '../support/moto.js';
import { createRepo } from '../support/repos.js';
import { ensureUnprivilegedUser } from '../support/unprivileged-user.js';
import { runWorkerProcess } from '../support/worker-process.js';

const ROLE = 'arn:aws:iam::123456789012:role/iwomp-deploy/demo-deploy';
// Stands in for CodeBuild's container credentials and the worker role's keys.
const WORKER_ENV = {
  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/credentials/worker-secret-path',
  AWS_CONTAINER_AUTHORIZATION_TOKEN: 'container-token-1234567890',
  CODEBUILD_SRC_DIR: '/codebuild/output/src1/src',
  CODEBUILD_BUILD_ID: 'iwomp-worker:4d9b8a51-0d0e-4d5f-9b1e-7e1c2a3b4c5d',
};

// Records what the command sees and what it can reach of the worker (its parent process).
const DEPLOY_SH = `#!/bin/sh
env | sort > "$TEST_OUT_DIR/env.txt"
id -u > "$TEST_OUT_DIR/uid.txt"
if cat /proc/$PPID/environ > /dev/null 2>&1; then echo readable; else echo denied; fi > "$TEST_OUT_DIR/environ.txt"
if /usr/bin/python3 -c "import sys; open('/proc/%s/mem' % sys.argv[1], 'rb')" $PPID 2>/dev/null; then echo readable; else echo denied; fi > "$TEST_OUT_DIR/mem.txt"
if touch written-by-command 2>/dev/null; then echo yes; else echo no; fi > "$TEST_OUT_DIR/clone-writable.txt"
echo "secret key: $AWS_SECRET_ACCESS_KEY"
touch "$TEST_OUT_DIR/ran"
`;

let root: string;
let moto: Moto;
let registry: string;
let gitUrl: string;

function register(doc: Record<string, unknown>): void {
  writeFileSync(join(registry, 'demo.json'), JSON.stringify({ gitUrl, command: './deploy.sh', ...doc }));
}

function freshOut(): string {
  const out = mkdtempSync(join(root, 'out-'));
  execFileSync('chmod', ['0777', out]);
  return out;
}

function worker(out: string, extra: Record<string, string> = {}) {
  return runWorkerProcess({
    ...moto.env,
    ...WORKER_ENV,
    IWOMP_REGISTRY: `file:${registry}`,
    IWOMP_LOCAL: '1',
    PROJECTNAME: 'demo',
    GITBRANCH: 'main',
    TEST_OUT_DIR: out,
    ...extra,
  });
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'iwomp-containment-'));
  execFileSync('chmod', ['0755', root]);
  registry = join(root, 'registry');
  mkdirSync(registry);
  const repo = createRepo(root, 'demo');
  repo.commit('main', { 'deploy.sh': { content: DEPLOY_SH, executable: true } });
  gitUrl = `file://${repo.bare}`;
  moto = await startMoto();
});

afterAll(async () => {
  await moto?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('the deploy command and AWS', () => {
  it('gets no AWS credentials at all when the project names no role, and the log says so', async () => {
    // GIVEN a project without deployRole, and a worker with credentials of its own
    register({});
    const out = freshOut();
    // WHEN it deploys
    const run = await worker(out);
    // THEN the command ran without any credential the worker had
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(
      '[iwomp] no deployRole for branch main: the deploy command gets no AWS credentials',
    );
    const env = readFileSync(join(out, 'env.txt'), 'utf8');
    expect(env).not.toMatch(/^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|CONTAINER_[A-Z_]+)=/m);
    expect(env).not.toMatch(/^(CONFIGPATH|IWOMP_REGISTRY|IWOMP_LOCAL|CODEBUILD_SRC_DIR)=/m);
    expect(env).toMatch(/^AWS_REGION=us-east-1$/m);
    expect(env).toMatch(/^CODEBUILD_BUILD_ID=iwomp-worker:/m);
  });

  it("gets only the project role's session, named and tagged for the project, branch and commit", async () => {
    // GIVEN a project with its own deploy role
    register({ deployRole: ROLE });
    const out = freshOut();
    await moto.startRecording();
    // WHEN it deploys
    const run = await worker(out);
    // THEN the worker asked STS for the role with the session's names and tags
    expect(run.code).toBe(0);
    const assume = (await moto.recordedRequests()).find((r) => r.body.includes('Action=AssumeRole'));
    const params = new URLSearchParams(assume?.body ?? '');
    expect(params.get('RoleArn')).toBe(ROLE);
    expect(params.get('RoleSessionName')).toBe(
      'iwomp-demo@iwomp-worker-4d9b8a51-0d0e-4d5f-9b1e-7e1c2a3b4c5d',
    );
    expect(params.get('SourceIdentity')).toBe('iwomp-demo');
    const tags = Object.fromEntries(
      [1, 2, 3].map((i) => [params.get(`Tags.member.${i}.Key`), params.get(`Tags.member.${i}.Value`)]),
    );
    const commit = execFileSync('git', ['--git-dir', join(root, 'demo.git'), 'rev-parse', 'main'])
      .toString()
      .trim();
    expect(tags).toEqual({ 'iwomp:project': 'demo', 'iwomp:branch': 'main', 'iwomp:commit': commit });
    // AND the command holds that session's keys, none of the worker's
    const env = readFileSync(join(out, 'env.txt'), 'utf8');
    const key = /^AWS_ACCESS_KEY_ID=(.*)$/m.exec(env)?.[1];
    expect(key).toMatch(/^ASIA/);
    expect(key).not.toBe(moto.env.AWS_ACCESS_KEY_ID);
    expect(env).toMatch(/^AWS_SESSION_TOKEN=.+$/m);
    expect(env).not.toMatch(/^AWS_CONTAINER_/m);
    expect(env).not.toContain(WORKER_ENV.AWS_CONTAINER_AUTHORIZATION_TOKEN);
    // AND STS sees the command as the role's session
    const identity = JSON.parse(
      execFileSync('aws', ['sts', 'get-caller-identity', '--output', 'json'], {
        env: { ...process.env, ...moto.env, AWS_ACCESS_KEY_ID: key ?? '', ...sessionOf(env) },
      }).toString(),
    ) as { Arn: string };
    expect(identity.Arn).toBe(
      'arn:aws:sts::123456789012:assumed-role/demo-deploy/iwomp-demo@iwomp-worker-4d9b8a51-0d0e-4d5f-9b1e-7e1c2a3b4c5d',
    );
    // AND the session's secret key printed by the command is redacted in the log
    expect(run.stdout).toContain('secret key: ***');
    expect(run.stdout).not.toContain(/^AWS_SECRET_ACCESS_KEY=(.*)$/m.exec(env)?.[1] ?? 'unreachable');
  });

  it('picks the role of the first rule that allows the branch', async () => {
    // GIVEN a read-only role for every branch but main
    const readOnly = 'arn:aws:iam::123456789012:role/iwomp-deploy/demo-diff';
    register({
      deployRole: [
        { branches: ['main'], roleArn: ROLE },
        { branches: ['**'], roleArn: readOnly },
      ],
    });
    await moto.startRecording();
    // WHEN main deploys
    const run = await worker(freshOut());
    // THEN main gets the deploy role
    expect(run.code).toBe(0);
    const assumed = (await moto.recordedRequests())
      .filter((r) => r.body.includes('Action=AssumeRole'))
      .map((r) => new URLSearchParams(r.body).get('RoleArn'));
    expect(assumed).toEqual([ROLE]);
  });

  it('runs nothing and exits 86 with one line when the role cannot be assumed', async () => {
    // GIVEN a project with a role, and an STS that cannot be reached
    register({ deployRole: ROLE });
    const out = freshOut();
    // WHEN it deploys
    const run = await worker(out, { AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_MAX_ATTEMPTS: '1' });
    // THEN
    expect(run.code).toBe(ExitCode.deployRoleFailed);
    const failures = run.stderr.split('\n').filter((l) => l.startsWith('iwomp: '));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(
      /^iwomp: cannot assume the deploy role arn:aws:iam::123456789012:role\/iwomp-deploy\/demo-deploy: /,
    );
    expect(existsSync(join(out, 'ran'))).toBe(false);
  });
});

describe('the deploy command as an unprivileged user', () => {
  const isRoot = process.getuid?.() === 0;

  it.runIf(isRoot)(
    "cannot read the worker's environment or memory, and works in a clone and HOME of its own",
    async () => {
      // GIVEN a worker running as root, told to run the command as an unprivileged user
      const user = ensureUnprivilegedUser('iwomp-deployer');
      register({});
      const out = freshOut();
      // WHEN it deploys
      const run = await worker(out, { IWOMP_RUN_AS: user.name });
      // THEN the command ran as that user
      expect(run.code).toBe(0);
      expect(readFileSync(join(out, 'uid.txt'), 'utf8').trim()).toBe(String(user.uid));
      expect(run.stderr).toMatch(
        new RegExp(`\\[iwomp\\] the deploy command runs as ${user.name} \\(uid ${user.uid}\\)`),
      );
      // AND could not read the worker (its parent) through /proc
      expect(readFileSync(join(out, 'environ.txt'), 'utf8').trim()).toBe('denied');
      expect(readFileSync(join(out, 'mem.txt'), 'utf8').trim()).toBe('denied');
      // AND could write in its clone, with a HOME of its own
      expect(readFileSync(join(out, 'clone-writable.txt'), 'utf8').trim()).toBe('yes');
      const env = readFileSync(join(out, 'env.txt'), 'utf8');
      expect(env).toMatch(new RegExp(`^USER=${user.name}$`, 'm'));
      expect(/^HOME=(.*)$/m.exec(env)?.[1]).toMatch(/\/iwomp-demo-[^/]+\/home$/);
    },
  );

  it.runIf(isRoot)('could read the worker without the switch: the control for the test above', async () => {
    // GIVEN the same deploy without IWOMP_RUN_AS
    register({});
    const out = freshOut();
    // WHEN it deploys
    const run = await worker(out);
    // THEN the command shares the worker's user, and the log says so
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("IWOMP_RUN_AS is not set: the deploy command runs as the worker's own user");
    expect(readFileSync(join(out, 'environ.txt'), 'utf8').trim()).toBe('readable');
    expect(readFileSync(join(out, 'mem.txt'), 'utf8').trim()).toBe('readable');
  });

  it.runIf(isRoot)('hands the clone to the user without following its symlinks out of it', async () => {
    // GIVEN a root-owned file outside the clone, and a branch whose tree links to it
    const user = ensureUnprivilegedUser('iwomp-deployer');
    const victim = join(root, 'root-owned-secret');
    writeFileSync(victim, 'root only\n', { mode: 0o600 });
    const linked = createRepo(root, 'linked');
    linked.commit('main', { 'deploy.sh': { content: DEPLOY_SH, executable: true } });
    execFileSync('ln', ['-s', victim, join(linked.work, 'victim')]);
    linked.commit('main', {});
    writeFileSync(
      join(registry, 'linked.json'),
      JSON.stringify({ gitUrl: `file://${linked.bare}`, command: './deploy.sh' }),
    );
    // WHEN it deploys as the unprivileged user
    const run = await worker(freshOut(), { PROJECTNAME: 'linked', IWOMP_RUN_AS: user.name });
    // THEN the deploy ran, and the file behind the link is still root's
    expect(run.code).toBe(0);
    expect(statSync(victim)).toMatchObject({ uid: 0, gid: 0 });
  });

  it('refuses an IWOMP_RUN_AS that names no user, before anything runs', async () => {
    // GIVEN / WHEN
    register({});
    const out = freshOut();
    const run = await worker(out, { IWOMP_RUN_AS: 'no-such-user-x' });
    // THEN
    if (isRoot) {
      expect(run.code).toBe(ExitCode.badEnvironment);
      expect(run.stderr).toMatch(/^iwomp: IWOMP_RUN_AS: no user 'no-such-user-x' in \/etc\/passwd$/m);
      expect(existsSync(join(out, 'ran'))).toBe(false);
    } else {
      expect(run.stderr).toMatch(/cannot run the deploy command as no-such-user-x: the worker is not root/);
    }
  });
});

function sessionOf(env: string): Record<string, string> {
  return {
    AWS_SECRET_ACCESS_KEY: /^AWS_SECRET_ACCESS_KEY=(.*)$/m.exec(env)?.[1] ?? '',
    AWS_SESSION_TOKEN: /^AWS_SESSION_TOKEN=(.*)$/m.exec(env)?.[1] ?? '',
  };
}
