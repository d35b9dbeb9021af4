import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addIwompStacks } from '../../src/infra/stacks.js';
import { cdkJsonContext } from '../infra/helpers.js';
import type { CfnTemplate } from './cfn-resolve.js';
import {
  type BuildResult,
  type ContainerCredentials,
  type EmulatedProject,
  loadCodeBuildProject,
  runBuild,
  stackFromAssembly,
  startContainerCredentials,
} from './codebuild-emulator.js';
import { type GitServer, startGitServer } from './git-server.js';
import { type Moto, startMoto } from './moto.js';
import { createRepo } from './repos.js';
import { createTemplateIam } from './template-iam.js';

// The current pipeline (the `iwomp` stack of the seed app, managed image), synthesized with its
// real worker asset, run by the CodeBuild emulator against moto (IAM enforced) and git http-backend.
// Synthesis with bundling, moto and a worker run: about 20 s on an idle machine, several times that
// on a loaded one; the hook gets room beyond the default 60 s so load alone does not fail it.
const SETUP_TIMEOUT_MS = 150_000;

let root: string;
let moto: Moto;
let git: GitServer;
let project: EmulatedProject;
let credentials: ContainerCredentials;
let build: BuildResult;
let marker: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'iwomp-cb-pipeline-'));
  chmodSync(root, 0o755); // the deploy command runs as codebuild-user, and writes under it
  // moto boots (a Python process) while the app synthesizes.
  const motoStarting = startMoto({ enforceIam: true });
  // GIVEN the seed app synthesized with its assets bundled (the worker asset is the build's source)
  const app = new App({
    outdir: join(root, 'cdk.out'),
    context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': ['iwomp'] },
  });
  addIwompStacks(app);
  const assembly = app.synth();
  const iwomp = stackFromAssembly(assembly, 'iwomp');
  const policies = assembly.getStackByName('iwomp-policies').template as CfnTemplate;

  // AND moto enforcing IAM, with the stacks' roles and policies created in it
  moto = await motoStarting;
  // (the pipeline first: iwomp-policies holds deploy roles that trust its worker role)
  await createTemplateIam(moto, [
    { stackName: 'iwomp', template: iwomp.template },
    { stackName: 'iwomp-policies', template: policies },
  ]);
  project = loadCodeBuildProject(iwomp, { account: moto.account, region: moto.region });

  // AND a project registered in SSM whose deploy command writes a marker
  const out = join(root, 'out');
  mkdirSync(out);
  chmodSync(out, 0o777); // whichever user the command runs as may write it
  marker = join(out, 'marker');
  const repo = createRepo(root, 'demo');
  repo.commit('main', {
    'deploy.sh': { content: `#!/bin/sh\necho "deployed $1 as $(id -un)" > ${marker}\n`, executable: true },
  });
  git = await startGitServer(root);
  const ssm = new SSMClient(moto.clientConfig);
  await ssm.send(
    new PutParameterCommand({
      Name: '/iwomp-in-aws/demo',
      Type: 'String',
      Value: JSON.stringify({ gitUrl: git.url('demo.git'), command: './deploy.sh', branches: ['main'] }),
    }),
  );
  ssm.destroy();

  // WHEN the launcher's StartBuild is emulated: the worker role's credentials on the endpoint
  credentials = await startContainerCredentials(moto, project.serviceRoleArn);
  build = await runBuild(project, {
    overrides: { PROJECTNAME: 'demo', GITBRANCH: 'main' },
    containerEnv: { AWS_ENDPOINT_URL: moto.endpoint },
    credentials,
    // The CDK CLI's install reaches the npm registry; the deploy here does not call cdk.
    skipCommands: [/^npm install --global .*aws-cdk@/],
  });
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await credentials?.stop();
  await git?.stop();
  await moto?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('the synthesized pipeline, run by the CodeBuild emulator', () => {
  it('finds the worker project, its role, buildspec and asset in the template', () => {
    // THEN
    expect(project.serviceRoleArn).toMatch(/^arn:aws:iam::123456789012:role\/iwomp-PipelineWorkerRole/);
    expect(project.environmentVariables).toMatchObject({ CONFIGPATH: 'iwomp-in-aws' });
    expect(project.source).toMatchObject({ type: 'S3', key: expect.stringMatching(/\.zip$/) });
    expect(
      readFileSync(join((project.source as { assetPath: string }).assetPath, 'package.json'), 'utf8'),
    ).toContain('module');
  });

  it('runs the worker from the asset alone: it reads the registry as the worker role and deploys', () => {
    // THEN the build succeeded and the deploy command ran with the branch
    expect(build.stderr).not.toMatch(/iwomp: /);
    expect(build).toMatchObject({ exitCode: 0, succeeded: true });
    expect(readFileSync(marker, 'utf8')).toMatch(/^deployed main as \S+\n$/);
    // AND the worker's SDK took its credentials from the container endpoint, the worker role's session
    expect(credentials.served.ok).toBeGreaterThan(0);
    expect(credentials.sessionArn).toMatch(
      /^arn:aws:sts::123456789012:assumed-role\/iwomp-PipelineWorkerRole\S+\/AWSCodeBuild-/,
    );
    // AND what the emulator could not apply is said, not hidden
    expect(build.notes).toEqual([
      expect.stringMatching(/^install.runtime-versions .*nodejs.* not applied/),
      expect.stringMatching(/^command skipped \(skipCommands\): npm install --global/),
    ]);
  });

  it('gives the build no credentials of the host: without the endpoint the worker cannot read the registry', async () => {
    // WHEN the same build runs without the container credentials endpoint
    rmSync(marker, { force: true });
    const bare = await runBuild(project, {
      overrides: { PROJECTNAME: 'demo', GITBRANCH: 'main' },
      containerEnv: { AWS_ENDPOINT_URL: moto.endpoint },
      skipCommands: [/^npm install --global .*aws-cdk@/],
    });
    // THEN it fails before the deploy command
    expect(bare.succeeded).toBe(false);
    expect(bare.phases.find((p) => p.phase === 'build')).toMatchObject({ status: 'FAILED' });
    expect(() => readFileSync(marker)).toThrow(/ENOENT/);
  });
});
