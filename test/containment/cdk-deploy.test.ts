/**
 * A real CDK deploy through the emulated worker build: the example project `examples/cdk-project`
 * (its deploy.sh calls a bare `cdk deploy`) deploys its stack into moto's CloudFormation with the
 * demo project's deploy role (CloudFormation and SQS), run as codebuild-user; the same repository
 * registered as another project, whose role has no CloudFormation rights, is denied the stack.
 *
 * As in codebuild.test.ts, the buildspec's `npm install --global aws-cdk@…` is skipped
 * (`skipCommands`, no network here) and the repository's own pinned aws-cdk is first on PATH; the
 * fixture repository's `node_modules` is a symlink to this repository's (aws-cdk-lib).
 */
import { chmodSync, cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import { ensureUnprivilegedUser } from '../support/unprivileged-user.js';
import { seedAppInMoto } from './seed-app.js';

// Synthesis, moto and a `cdk deploy` (~20 s on its own here): minutes on a loaded machine.
const SETUP_TIMEOUT_MS = 240_000;
const REPO_ROOT = resolve(import.meta.dirname, '../..');
const STACK = 'iwomp-example-queue';

let root: string;
let moto: Moto;
let git: GitServer;
let project: EmulatedProject;
let credentials: ContainerCredentials;
let demoBuild: BuildResult;

function build(projectName: string): Promise<BuildResult> {
  return runBuild(project, {
    overrides: { PROJECTNAME: projectName, GITBRANCH: 'main' },
    containerEnv: {
      AWS_ENDPOINT_URL: moto.endpoint,
      PATH: `${join(REPO_ROOT, 'node_modules/.bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    },
    credentials,
    skipCommands: [/^npm install --global .*aws-cdk@/],
    timeoutMs: 200_000,
  });
}

async function stackStatus(): Promise<string | undefined> {
  const cfn = new CloudFormationClient(moto.clientConfig);
  try {
    const answer = await cfn.send(new DescribeStacksCommand({ StackName: STACK }));
    return answer.Stacks?.[0]?.StackStatus;
  } catch {
    return undefined;
  } finally {
    cfn.destroy();
  }
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'iwomp-containment-cdk-'));
  chmodSync(root, 0o755);
  ensureUnprivilegedUser('codebuild-user');
  // GIVEN the seed app with the demo project, and a second project's role given no rights
  let other: { project: string } | undefined;
  const seed = await seedAppInMoto(join(root, 'cdk.out'), (pipeline) => {
    other = pipeline.addDeployRole('OtherDeployRole', { project: 'other' });
  });
  ({ moto, project } = seed);
  const { iam } = seed;
  const demoRole = iam.role(
    (r) => r.stackName === 'iwomp-policies' && r.logicalId.startsWith('DemoDeployRole'),
  );
  const otherRole = iam.role((r) => r.stackName === 'iwomp' && r.logicalId.includes('OtherDeployRole'));
  expect(other?.project).toBe('other');

  // AND the example CDK project in a repository (node_modules: this repository's, readable by all)
  const repo = createRepo(root, 'cdk-project');
  cpSync(join(REPO_ROOT, 'examples/cdk-project'), repo.work, { recursive: true });
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(repo.work, 'node_modules'));
  repo.commit('main', {});
  git = await startGitServer(root);

  // AND both projects registered on that repository, each with its own role
  const ssm = new SSMClient(moto.clientConfig);
  for (const [name, role] of [
    ['demo', demoRole.arn],
    ['other', otherRole.arn],
  ] as const) {
    await ssm.send(
      new PutParameterCommand({
        Name: `/iwomp-in-aws/${name}`,
        Type: 'String',
        Value: JSON.stringify({
          gitUrl: git.url('cdk-project.git'),
          command: './deploy.sh',
          branches: ['main'],
          deployRole: role,
        }),
      }),
    );
  }
  ssm.destroy();

  // WHEN the demo project is deployed through the emulated worker build
  credentials = await startContainerCredentials(moto, project.serviceRoleArn);
  demoBuild = await build('demo');
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await credentials?.stop();
  await git?.stop();
  await moto?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('a CDK project deployed through the emulated worker', () => {
  it("deploys its stack with the demo project's role: cdk deploy into CloudFormation, the queue created", async () => {
    // THEN the build succeeded and cdk said so
    expect(demoBuild.stderr).not.toMatch(/iwomp: /);
    expect(demoBuild).toMatchObject({ exitCode: 0, succeeded: true });
    expect(`${demoBuild.stdout}${demoBuild.stderr}`).toMatch(
      new RegExp(`${STACK}.*(deployed|no changes)`, 's'),
    );
    // AND the stack exists, with its queue
    expect(await stackStatus()).toMatch(/_COMPLETE$/);
    const sqs = new SQSClient(moto.clientConfig);
    const queues = await sqs.send(new ListQueuesCommand({}));
    sqs.destroy();
    expect(queues.QueueUrls?.some((url) => url.includes(STACK))).toBe(true);
  });

  it("is denied to another project's role, which has no CloudFormation rights", async () => {
    // GIVEN the stack as the demo project left it
    const before = await stackStatus();
    // WHEN the same repository deploys as project `other`
    const denied = await build('other');
    // THEN the deploy command failed on CloudFormation's access check, and the stack is unchanged
    expect(denied.succeeded).toBe(false);
    expect(`${denied.stdout}${denied.stderr}`).toMatch(
      /not authorized to perform: cloudformation:|AccessDenied/,
    );
    expect(await stackStatus()).toBe(before);
  }, 200_000);
});
