import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CfnTemplate } from './cfn-resolve.js';
import {
  type BuildSpec,
  loadCodeBuildProject,
  parseBuildSpec,
  runBuild,
  type SynthesizedStack,
} from './codebuild-emulator.js';
import { ensureUnprivilegedUser } from './unprivileged-user.js';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const KEY = 'abc123.zip';
/** The CDK asset bucket as templates write it: a CloudFormation Fn::Sub string, not a JS template. */
const CDK_BUCKET = ['cdk-hnb659fds-assets-$', '{AWS::AccountId}-$', '{AWS::Region}'].join('');

let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'iwomp-cb-emu-'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/**
 * A stack shaped as CDK synthesizes one: a CodeBuild project whose S3 source is an asset
 * (`asset.<hash>` directory, published as `<hash>.zip`), its buildspec inline as JSON.
 */
function stackWith(buildSpec: BuildSpec | string, variables: Record<string, string> = {}): SynthesizedStack {
  const dir = mkdtempSync(join(root, 'asm-'));
  mkdirSync(join(dir, 'asset.abc123'));
  writeFileSync(join(dir, 'asset.abc123', 'hello.sh'), 'echo "hello from the asset"\n', { mode: 0o755 });
  writeFileSync(
    join(dir, 'Emu.assets.json'),
    JSON.stringify({
      version: '55.0.0',
      files: {
        abc123: {
          source: { path: 'asset.abc123', packaging: 'zip' },
          destinations: {
            d: { bucketName: CDK_BUCKET, objectKey: KEY },
          },
        },
      },
    }),
  );
  const template: CfnTemplate = {
    Resources: {
      Role1234: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: { Statement: [] } } },
      Proj5678: {
        Type: 'AWS::CodeBuild::Project',
        Properties: {
          ServiceRole: { 'Fn::GetAtt': ['Role1234', 'Arn'] },
          EncryptionKey: 'alias/aws/s3',
          Environment: {
            Image: 'aws/codebuild/standard:7.0',
            ComputeType: 'BUILD_GENERAL1_SMALL',
            EnvironmentVariables: Object.entries(variables).map(([Name, Value]) => ({
              Name,
              Type: 'PLAINTEXT',
              Value,
            })),
          },
          Source: {
            Type: 'S3',
            Location: {
              'Fn::Join': ['', [{ 'Fn::Sub': CDK_BUCKET }, `/${KEY}`]],
            },
            BuildSpec: typeof buildSpec === 'string' ? buildSpec : JSON.stringify(buildSpec),
          },
        },
      },
    },
  };
  return { stackName: 'Emu', template, assemblyDir: dir, assetManifestFile: join(dir, 'Emu.assets.json') };
}

const load = (stack: SynthesizedStack) => loadCodeBuildProject(stack, { account: ACCOUNT, region: REGION });

describe('loadCodeBuildProject', () => {
  it('reads the project generically: name, ARN, service role, variables, source asset', () => {
    // GIVEN a synthesized-like stack
    const stack = stackWith(
      { version: '0.2', phases: { build: { commands: ['true'] } } },
      { CONFIGPATH: 'iwomp-in-aws' },
    );
    // WHEN
    const project = load(stack);
    // THEN
    expect(project).toMatchObject({
      logicalId: 'Proj5678',
      name: 'Emu-Proj5678',
      arn: `arn:aws:codebuild:${REGION}:${ACCOUNT}:project/Emu-Proj5678`,
      serviceRoleArn: `arn:aws:iam::${ACCOUNT}:role/Emu-Role1234`,
      environmentVariables: { CONFIGPATH: 'iwomp-in-aws' },
      source: {
        type: 'S3',
        bucket: `cdk-hnb659fds-assets-${ACCOUNT}-${REGION}`,
        key: KEY,
        assetPath: join(stack.assemblyDir, 'asset.abc123'),
      },
    });
  });

  it('refuses what it cannot emulate', () => {
    // GIVEN buildspecs the emulator must not half-run
    const refused: Array<[string, RegExp]> = [
      ['{"version":"0.1","phases":{}}', /only 0.2/],
      [JSON.stringify({ version: 0.2, env: { 'parameter-store': { A: '/x' } } }), /env.parameter-store/],
      [JSON.stringify({ version: 0.2, env: { shell: 'sh' } }), /only bash/],
      [
        JSON.stringify({ version: 0.2, phases: { build: { 'run-as': 'x', commands: [] } } }),
        /top-level run-as/,
      ],
      [JSON.stringify({ version: 0.2, phases: { deploy: { commands: [] } } }), /unknown phase deploy/],
      [JSON.stringify({ version: 0.2, batch: {} }), /batch/],
    ];
    // WHEN / THEN
    for (const [text, message] of refused) expect(() => parseBuildSpec(text), text).toThrow(message);
    // a project with two CodeBuild projects needs `select`
    const stack = stackWith({ version: '0.2' });
    const two = {
      ...stack,
      template: { Resources: { ...stack.template.Resources, Other: stack.template.Resources.Proj5678 } },
    } as SynthesizedStack;
    expect(() => load(two)).toThrow(/expected one CodeBuild project in Emu, found 2/);
    const picked = loadCodeBuildProject(two, {
      account: ACCOUNT,
      region: REGION,
      select: (id) => id === 'Other',
    });
    expect(picked.logicalId).toBe('Other');
  });

  it('parses a YAML buildspec', () => {
    // GIVEN / WHEN
    const spec = parseBuildSpec('version: 0.2\nphases:\n  build:\n    commands:\n      - echo yaml\n');
    // THEN
    expect(spec.phases?.build?.commands).toEqual(['echo yaml']);
  });
});

describe('runBuild', () => {
  it('runs the phases in order in one shell, from the unpacked asset, with CodeBuild variables', async () => {
    // GIVEN a buildspec whose phases write in the wrong order and share a variable and a directory
    const project = load(
      stackWith({
        version: '0.2',
        phases: {
          post_build: { commands: ['echo "post $SHARED $(basename "$PWD")"'] },
          build: { commands: ['./hello.sh', 'echo "build $SHARED"', 'cd "$CODEBUILD_SRC_DIR"'] },
          install: { 'runtime-versions': { nodejs: '22' }, commands: ['export SHARED=kept', 'echo install'] },
          pre_build: {
            commands: [
              'echo "id=$CODEBUILD_BUILD_ID arn=$CODEBUILD_BUILD_ARN init=$CODEBUILD_INITIATOR src=$CODEBUILD_SRC_DIR region=$AWS_REGION"',
            ],
          },
        },
      }),
    );
    // WHEN
    const build = await runBuild(project);
    // THEN
    expect(build).toMatchObject({ exitCode: 0, succeeded: true, stderr: '' });
    expect(build.stdout.split('\n')).toEqual([
      'install',
      `id=${build.buildId} arn=${build.buildArn} init=iwomp-launcher src=${build.srcDir} region=${REGION}`,
      'hello from the asset',
      'build kept',
      'post kept src',
      '',
    ]);
    expect(build.buildId).toMatch(/^Emu-Proj5678:[0-9a-f-]{36}$/);
    expect(build.buildArn).toBe(`arn:aws:codebuild:${REGION}:${ACCOUNT}:build/${build.buildId}`);
    expect(build.phases.map((p) => p.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(build.notes).toEqual([
      expect.stringMatching(/^install.runtime-versions \{"nodejs":"22"\} not applied/),
    ]);
  });

  it('gives overrides precedence over project variables over buildspec variables', async () => {
    // GIVEN the same names at three levels
    const project = load(
      stackWith(
        {
          version: '0.2',
          env: { variables: { A: 'spec', B: 'spec', C: 'spec' } },
          phases: { build: { commands: ['echo "$A $B $C $ENDPOINT"'] } },
        },
        { A: 'project', B: 'project' },
      ),
    );
    // WHEN
    const build = await runBuild(project, {
      overrides: { A: 'override' },
      containerEnv: { ENDPOINT: 'http://x' },
    });
    // THEN
    expect(build.stdout).toBe('override project spec http://x\n');
    await expect(runBuild(project, { overrides: { CODEBUILD_BUILD_ID: 'x' } })).rejects.toThrow(/reserved/);
    await expect(runBuild(project, { containerEnv: { AWS_ACCESS_KEY_ID: 'x' } })).rejects.toThrow(
      /through its endpoint/,
    );
  });

  it('stops a failing phase at its first failing command, runs finally, and post_build after a failed build', async () => {
    // GIVEN a build phase that fails with 7
    const project = load(
      stackWith({
        version: '0.2',
        phases: {
          build: {
            commands: ['echo one', 'exit_with() { return "$1"; }; exit_with 7', 'echo never'],
            finally: ['echo finally'],
          },
          post_build: { commands: ['echo "post succeeding=$CODEBUILD_BUILD_SUCCEEDING"'] },
        },
      }),
    );
    // WHEN
    const build = await runBuild(project);
    // THEN
    expect(build.stdout).toBe('one\nfinally\npost succeeding=0\n');
    expect(build).toMatchObject({ exitCode: 7, succeeded: false });
    expect(build.phases).toEqual([
      { phase: 'build', status: 'FAILED', exitCode: 7 },
      { phase: 'post_build', status: 'SUCCEEDED', exitCode: 0 },
    ]);
  });

  it('ends the build after a failed install or pre_build unless on-failure is CONTINUE', async () => {
    // GIVEN a failing pre_build, then the same with CONTINUE
    const spec = (onFailure?: 'CONTINUE') => ({
      version: '0.2',
      phases: {
        pre_build: { commands: ['false'], ...(onFailure ? { 'on-failure': onFailure } : {}) },
        build: { commands: ['echo build'] },
        post_build: { commands: ['echo post'] },
      },
    });
    // WHEN
    const aborted = await runBuild(load(stackWith(spec())));
    const continued = await runBuild(load(stackWith(spec('CONTINUE'))));
    // THEN
    expect(aborted.stdout).toBe('');
    expect(aborted.phases.map((p) => p.status)).toEqual(['FAILED', 'SKIPPED', 'SKIPPED']);
    expect(continued.stdout).toBe('build\npost\n');
    expect(continued).toMatchObject({ exitCode: 1, succeeded: false });
  });

  it('counts a command that ends the shell as a failure of its phase', async () => {
    // GIVEN a command that exits the shell
    const build = await runBuild(
      load(
        stackWith({
          version: '0.2',
          phases: { build: { commands: ['exit 5'] }, post_build: { commands: ['echo post'] } },
        }),
      ),
    );
    // THEN
    expect(build.phases).toEqual([
      { phase: 'build', status: 'FAILED', exitCode: 5 },
      { phase: 'post_build', status: 'SKIPPED' },
    ]);
  });

  it('keeps the status channel away from the commands', async () => {
    // GIVEN a command that tries to forge a phase result on fd 9
    const build = await runBuild(
      load(
        stackWith({
          version: '0.2',
          phases: { build: { commands: ["printf 'end build 0\\n' >&9 2>/dev/null; false"] } },
        }),
      ),
    );
    // THEN the forged line never reached the emulator
    expect(build.phases).toEqual([{ phase: 'build', status: 'FAILED', exitCode: 1 }]);
  });

  it('honours a top-level run-as', async () => {
    // GIVEN the unprivileged user of CodeBuild's images, and a buildspec running as it
    const user = ensureUnprivilegedUser();
    const project = load(
      stackWith({
        version: '0.2',
        'run-as': user.name,
        phases: { build: { commands: ['id -u', './hello.sh'] } },
      }),
    );
    // WHEN
    const build = await runBuild(project);
    // THEN
    expect(build.stdout).toBe(`${user.uid}\nhello from the asset\n`);
  });
});

describe('ensureUnprivilegedUser', () => {
  it('creates the user once, without privileges, with its own home', () => {
    // GIVEN / WHEN two calls
    const first = ensureUnprivilegedUser('iwomp-harness-u');
    const again = ensureUnprivilegedUser('iwomp-harness-u');
    // THEN the same user, not root, with a home it owns
    expect(again).toEqual(first);
    expect(first.uid).toBeGreaterThan(0);
    expect(first.home).toBe('/home/iwomp-harness-u');
    expect(execFileSync('stat', ['-c', '%u', first.home], { encoding: 'utf8' }).trim()).toBe(
      String(first.uid),
    );
    expect(() => ensureUnprivilegedUser('Bad Name')).toThrow(/not a user name/);
  });
});
