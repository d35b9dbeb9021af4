/**
 * Containment in CodeBuild, emulated: the seed app's worker project (buildspec, variables, its S3
 * source asset) run by the CodeBuild emulator against moto (IAM enforced) and git http-backend,
 * with the worker role on the container credentials endpoint. The deploy command of the demo
 * project records what it is and what it can reach; then the worker's code is changed by one byte
 * in the source, as whoever could write the S3 object would, and the build must refuse to run it.
 *
 * The buildspec's install phase installs the pinned CDK CLI from npm; the emulator skips that
 * command (`skipCommands`, reported in the build's notes) and the repository's own aws-cdk is first
 * on PATH instead: the machine has no network.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKER_FILE } from '../../src/infra/bundling.js';
import {
  type BuildResult,
  type ContainerCredentials,
  type EmulatedProject,
  runBuild,
  startContainerCredentials,
} from '../support/codebuild-emulator.js';
import { type GitServer, startGitServer } from '../support/git-server.js';
import type { Moto } from '../support/moto.js';
import { createRepo } from '../support/repos.js';
import type { DeployedRole } from '../support/template-iam.js';
import { ensureUnprivilegedUser } from '../support/unprivileged-user.js';
import { seedAppInMoto } from './seed-app.js';

// Synthesis with bundling, moto and one worker build: ~30 s idle, several times that loaded.
const SETUP_TIMEOUT_MS = 180_000;
const REPO_ROOT = resolve(import.meta.dirname, '../..');
// The CDK CLI install of the buildspec's install phase (it would reach npm).
const CDK_INSTALL = /^npm install --global .*aws-cdk@/;

// What the deploy command is and what it reaches of the worker: the worker's process is found by
// its command line (readable by anyone) as well as $PPID, so a shell in between cannot hide it.
// Only /usr/bin tools: the unprivileged user cannot execute anything under /root.
const DEPLOY_SH = (out: string) => `#!/bin/sh
out=${out}
id -un > "$out/user"
env | sort > "$out/env"
/usr/bin/python3 - "$PPID" > "$out/reach" <<'PY'
import os, sys
pids = {sys.argv[1]}
for pid in filter(str.isdigit, os.listdir('/proc')):
    try:
        if b'worker.js' in open('/proc/%s/cmdline' % pid, 'rb').read():
            pids.add(pid)
    except OSError:
        pass
for pid in sorted(pids):
    for what in ('environ', 'mem'):
        try:
            open('/proc/%s/%s' % (pid, what), 'rb').read(1)
            print(pid, what, 'readable')
        except OSError:
            print(pid, what, 'denied')
PY
touch "$out/ran"
`;

let root: string;
let out: string;
let moto: Moto;
let git: GitServer;
let project: EmulatedProject;
let demoRole: DeployedRole;
let credentials: ContainerCredentials;
let build: BuildResult;

function buildOptions(extra: { beforeBuild?: (srcDir: string) => void } = {}) {
  return {
    overrides: { PROJECTNAME: 'demo', GITBRANCH: 'main' },
    containerEnv: {
      AWS_ENDPOINT_URL: moto.endpoint,
      PATH: `${join(REPO_ROOT, 'node_modules/.bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    },
    credentials,
    skipCommands: [CDK_INSTALL],
    timeoutMs: 150_000,
    ...extra,
  };
}

/** The deploy command's environment, as it recorded it. */
function commandEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(join(out, 'env'), 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'iwomp-containment-cb-'));
  chmodSync(root, 0o755);
  ensureUnprivilegedUser('codebuild-user');
  // GIVEN the seed app with the demo project, synthesized with its bundles, its roles in moto
  // with IAM enforced
  const seed = await seedAppInMoto(join(root, 'cdk.out'));
  ({ moto, project } = seed);
  const { iam } = seed;
  demoRole = iam.role((r) => r.stackName === 'iwomp-policies' && r.logicalId.startsWith('DemoDeployRole'));

  // AND the demo project's repository, whose deploy command records what it sees
  out = join(root, 'out');
  mkdirSync(out);
  chmodSync(out, 0o777);
  const repo = createRepo(root, 'demo');
  repo.commit('main', { 'deploy.sh': { content: DEPLOY_SH(out), executable: true } });
  git = await startGitServer(root);

  // AND the registry in SSM: the demo project names its deploy role
  const ssm = new SSMClient(moto.clientConfig);
  await ssm.send(
    new PutParameterCommand({
      Name: '/iwomp-in-aws/demo',
      Type: 'String',
      Value: JSON.stringify({
        gitUrl: git.url('demo.git'),
        command: './deploy.sh',
        branches: ['main'],
        deployRole: demoRole.arn,
      }),
    }),
  );
  ssm.destroy();

  // WHEN the launcher's StartBuild is emulated, the worker role's session on the endpoint
  credentials = await startContainerCredentials(moto, project.serviceRoleArn);
  build = await runBuild(project, buildOptions());
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await credentials?.stop();
  await git?.stop();
  await moto?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('the worker build, emulated from the synthesized project', () => {
  it('checks the digests, runs the worker, and the deploy command runs as codebuild-user', () => {
    // THEN the build succeeded and ran the deploy command
    expect(build.stderr).not.toMatch(/iwomp: /);
    expect(build).toMatchObject({ exitCode: 0, succeeded: true });
    expect(existsSync(join(out, 'ran'))).toBe(true);
    // AND the build phase checked the worker's files first, then ran it (as root: the emulator's user)
    const commands = project.buildSpec.phases?.build?.commands ?? [];
    expect(commands[0]).toMatch(/\| sha256sum --check --strict --quiet$/);
    expect(commands[0]).toContain(`  ${WORKER_FILE}'`);
    // AND the command ran as the unprivileged user
    expect(readFileSync(join(out, 'user'), 'utf8').trim()).toBe('codebuild-user');
    // (the project tells the worker whom to switch to)
    expect(project.environmentVariables.IWOMP_RUN_AS).toBe('codebuild-user');
    // AND the skipped CDK CLI install is said, not hidden
    expect(build.notes).toContainEqual(
      expect.stringMatching(/^command skipped \(skipCommands\): npm install --global/),
    );
  });

  it("cannot read the worker's environment or memory", () => {
    // GIVEN what the command tried on the worker's process (its parent and whatever runs worker.js)
    const lines = readFileSync(join(out, 'reach'), 'utf8').trim().split('\n');
    // THEN it found the worker, and every read was denied
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.some((l) => l.includes(' environ '))).toBe(true);
    expect(lines.some((l) => l.includes(' mem '))).toBe(true);
    expect(lines.filter((l) => !l.endsWith(' denied'))).toEqual([]);
  });

  it("has none of the worker's variables: no container credentials, no registry, only the job's IWOMP_*", () => {
    // GIVEN the command's environment
    const env = commandEnv();
    // THEN
    expect(Object.keys(env).filter((k) => k.startsWith('AWS_CONTAINER_'))).toEqual([]);
    // (the worker tells the command its job; nothing of the worker's own IWOMP_* settings passes)
    expect(Object.keys(env).filter((k) => k.startsWith('IWOMP_'))).toEqual([
      'IWOMP_BRANCH',
      'IWOMP_COMMIT',
      'IWOMP_PROJECT',
    ]);
    expect(env).toMatchObject({ IWOMP_PROJECT: 'demo', IWOMP_BRANCH: 'main' });
    expect(env.IWOMP_REGISTRY).toBeUndefined();
    expect(env.IWOMP_RUN_AS).toBeUndefined();
    expect(env.CONFIGPATH).toBeUndefined();
    expect(env.CODEBUILD_SRC_DIR).toBeUndefined();
    // AND the worker's token appears nowhere in it
    const token = credentials.env.AWS_CONTAINER_AUTHORIZATION_TOKEN as string;
    expect(readFileSync(join(out, 'env'), 'utf8')).not.toContain(token);
  });

  it("calls AWS as the demo role's session, not the worker's", async () => {
    // GIVEN the credentials the command was given
    const env = commandEnv();
    expect(env.AWS_ACCESS_KEY_ID).toMatch(/^ASIA/);
    // WHEN STS is asked who they are
    const sts = new STSClient({
      endpoint: moto.endpoint,
      region: moto.region,
      credentials: {
        accessKeyId: env.AWS_ACCESS_KEY_ID as string,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY as string,
        sessionToken: env.AWS_SESSION_TOKEN as string,
      },
    });
    const who = await sts.send(new GetCallerIdentityCommand({}));
    sts.destroy();
    // THEN the demo role's assumed-role session
    expect(who.Arn).toMatch(new RegExp(`^arn:aws:sts::123456789012:assumed-role/${demoRole.name}/`));
    expect(who.Arn).not.toContain('PipelineWorkerRole');
  });

  it('refuses a worker changed by one byte: the digest check fails and the deploy command never runs', async () => {
    // GIVEN the source's worker.js with one byte changed, still valid JavaScript
    rmSync(join(out, 'ran'), { force: true });
    let changed = false;
    // WHEN the build runs from that source
    const tampered = await runBuild(
      project,
      buildOptions({
        beforeBuild: (srcDir) => {
          const file = join(srcDir, WORKER_FILE);
          const text = readFileSync(file, 'utf8');
          const at = text.indexOf('iwomp: ');
          expect(at).toBeGreaterThan(0);
          writeFileSync(file, `${text.slice(0, at)}iwomq: ${text.slice(at + 7)}`);
          changed = true;
        },
      }),
    );
    // THEN the build phase failed at the digest check
    expect(changed).toBe(true);
    expect(tampered.succeeded).toBe(false);
    expect(tampered.phases.find((p) => p.phase === 'build')).toMatchObject({ status: 'FAILED' });
    expect(`${tampered.stdout}${tampered.stderr}`).toMatch(new RegExp(`${WORKER_FILE}: FAILED`));
    // AND the deploy command never ran
    expect(existsSync(join(out, 'ran'))).toBe(false);
  }, 150_000);
});
