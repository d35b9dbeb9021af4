import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProjectDocument, resolveProjectConfig } from '../../src/core/project-config.js';
import { addIwompStacks, DEMO_PROJECT, readAppOptions } from '../../src/infra/stacks.js';
import { cdkJsonContext } from './helpers.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const STACKS = ['iwomp-policies', 'iwomp', 'iwomp-projects'];

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation templates are untyped JSON.
type Json = any;

/** Runs the pinned CDK CLI as a user would, with no AWS credentials or configuration reachable. */
async function cdkSynth(outdir: string, context: string[] = []): Promise<void> {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('AWS_')) env[key] = value;
  Object.assign(env, {
    AWS_CONFIG_FILE: join(outdir, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(outdir, 'no-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    CDK_DISABLE_VERSION_CHECK: '1',
  });
  const args = ['synth', '--quiet', '--output', outdir, ...context.flatMap((c) => ['--context', c])];
  try {
    await promisify(execFile)(join(root, 'node_modules/.bin/cdk'), args, { cwd: root, env });
  } catch (error) {
    throw new Error(`cdk synth failed: ${(error as { stderr?: string }).stderr ?? error}`, { cause: error });
  }
}

const template = (dir: string, stack: string): Json =>
  JSON.parse(readFileSync(join(dir, `${stack}.template.json`), 'utf8'));

const resourcesOf = (t: Json, type: string): Json[] =>
  Object.values(t.Resources).filter((r: Json) => r.Type === type);

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** The asset directory a `<hash>.zip` S3 key in a template points to. */
function assetDir(outdir: string, s3Key: Json): string {
  const text = JSON.stringify(s3Key);
  const hash = /([0-9a-f]{64})\.zip/.exec(text)?.[1];
  if (!hash) throw new Error(`no asset hash in ${text}`);
  return join(outdir, `asset.${hash}`);
}

function cfnLint(files: string[]): { status: number | null; output: string } {
  const run = spawnSync('cfn-lint', files, { encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('the app (cdk.json, pinned CDK CLI)', () => {
  let dir: string;
  let managed: string;
  let ecr: string;
  let lambda: string;

  beforeAll(async () => {
    for (const bundle of ['dist/launcher.js', 'dist/worker.js']) {
      if (!existsSync(join(root, bundle))) throw new Error(`${bundle} is missing: run npm run build first`);
    }
    dir = mkdtempSync(join(tmpdir(), 'iwomp-infra-'));
    managed = join(dir, 'managed');
    ecr = join(dir, 'ecr');
    lambda = join(dir, 'lambda');
    await Promise.all([
      cdkSynth(managed, ['iwomp:demo=true']),
      cdkSynth(ecr, ['iwomp:workerImage=ecr', 'iwomp:githubRepositories=acme/app', 'iwomp:demo=true']),
    ]);
    // The third variant in-process: the CLI adds nothing the two runs above have not shown.
    const app = new App({ outdir: lambda, context: cdkJsonContext });
    addIwompStacks(app, { workerImage: 'lambda', demo: true });
    app.synth();
  }, 120_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('synthesizes the three stacks offline, with no credentials', () => {
    const manifest = JSON.parse(readFileSync(join(managed, 'manifest.json'), 'utf8'));
    const stacks = Object.entries(manifest.artifacts as Record<string, Json>)
      .filter(([, a]) => a.type === 'aws:cloudformation:stack')
      .map(([id]) => id);
    expect(stacks.sort()).toEqual([...STACKS].sort());
  });

  it('tags every stack Application: iwomp-in-aws', () => {
    const manifest = JSON.parse(readFileSync(join(managed, 'manifest.json'), 'utf8'));
    for (const stack of STACKS) {
      expect(manifest.artifacts[stack].properties.tags, stack).toEqual({ Application: 'iwomp-in-aws' });
    }
  });

  it('outputs JobTopicArn and FailureQueueUrl, and WorkerEcrUri only with the ECR image', () => {
    const outputs = template(managed, 'iwomp').Outputs;
    expect(outputs.JobTopicArn.Value).toEqual({ Ref: expect.stringMatching(/^PipelineTopic/) });
    expect(outputs.FailureQueueUrl.Value).toEqual({ Ref: expect.stringMatching(/^PipelineFailureQueue/) });
    expect(outputs.WorkerEcrUri).toBeUndefined();
    const ecrOutputs = template(ecr, 'iwomp').Outputs;
    expect(JSON.stringify(ecrOutputs.WorkerEcrUri.Value)).toContain('.dkr.ecr.');
    expect(ecrOutputs.GithubActionsRoleArn.Value).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^PipelineGithubActionsTriggerRole/), 'Arn'],
    });
  });

  it('outputs the launcher and worker log group names, where triggers and builds can be read', () => {
    const outputs = template(managed, 'iwomp').Outputs;
    expect(outputs.LauncherLogGroupName.Value).toEqual({
      Ref: expect.stringMatching(/^PipelineLauncherLogs/),
    });
    expect(outputs.WorkerLogGroupName.Value).toEqual({ Ref: expect.stringMatching(/^PipelineWorkerLogs/) });
  });

  it('outputs the deploy table and the results topic, which iwomp trigger --wait and subscribers read', () => {
    // GIVEN the iwomp stack's outputs
    const outputs = template(managed, 'iwomp').Outputs;
    // THEN the deploy table's name and the results topic's ARN are there
    expect(outputs.DeployTableName.Value).toEqual({ Ref: expect.stringMatching(/^PipelineDeployTable/) });
    expect(outputs.ResultsTopicArn.Value).toEqual({ Ref: expect.stringMatching(/^PipelineResultsTopic/) });
  });

  it('registers the demo project with a document the launcher accepts, naming its own deploy role', () => {
    const [parameter] = resourcesOf(template(managed, 'iwomp-projects'), 'AWS::SSM::Parameter');
    expect(parameter.Properties.Name).toBe('/iwomp-in-aws/demo');
    // The role's ARN is known at deploy time: stand in for the import with the ARN it resolves to.
    const [text, ...tokens] = parameter.Properties.Value['Fn::Join'][1].map((part: Json) =>
      typeof part === 'string' ? part : part,
    );
    expect(tokens.map((t: Json) => JSON.stringify(t))).toEqual(
      [
        expect.stringMatching(/"Fn::ImportValue":"iwomp-policies:ExportsOutputFnGetAttDemoDeployRole.*Arn/),
        '"\\"}"',
      ].slice(0, tokens.length),
    );
    const value = `${text}arn:aws:iam::123456789012:role/iwomp-deploy/demo-role"}`;
    const document = parseProjectDocument(value, '/iwomp-in-aws/demo');
    expect(document).toEqual({
      ...DEMO_PROJECT,
      deployRole: 'arn:aws:iam::123456789012:role/iwomp-deploy/demo-role',
    });
    expect(resolveProjectConfig(undefined, document).branches).toEqual(['master']);
  });

  it("gives the worker no deploy rights: the demo's CloudFormation and SQS rights are on the demo's own deploy role", () => {
    const [worker] = resourcesOf(template(managed, 'iwomp'), 'AWS::IAM::Role').filter((r: Json) =>
      JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('codebuild.amazonaws.com'),
    );
    expect(worker.Properties.ManagedPolicyArns).toBeUndefined();
    expect(JSON.stringify(template(managed, 'iwomp'))).not.toMatch(/cdk-hnb659fds-[a-z-]*role/);
    const [role] = resourcesOf(template(managed, 'iwomp-policies'), 'AWS::IAM::Role');
    expect(role.Properties.Path).toBe('/iwomp-deploy/');
    expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument)).toContain(
      '"sts:SourceIdentity":"iwomp-demo"',
    );
    const [policy] = resourcesOf(template(managed, 'iwomp-policies'), 'AWS::IAM::Policy');
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      { Action: ['cloudformation:*', 'sqs:*'], Effect: 'Allow', Resource: '*' },
    ]);
    expect(JSON.stringify(template(managed, 'iwomp-policies'))).not.toMatch(/cdk-hnb659fds-[a-z-]*role/);
  });

  it('passes cfn-lint with no errors or warnings, in every template of every variant', () => {
    const files = [managed, ecr, lambda].flatMap((d) =>
      readdirSync(d)
        .filter((f) => f.endsWith('.template.json'))
        .map((f) => join(d, f)),
    );
    expect(files).toHaveLength(9);
    const result = cfnLint(files);
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });

  it('has a cfn-lint that does find errors (the check is live)', () => {
    const broken = template(managed, 'iwomp-projects');
    const [id] = Object.keys(broken.Resources).filter(
      (k) => broken.Resources[k].Type === 'AWS::SSM::Parameter',
    );
    broken.Resources[id as string].Properties.Type = 'NotAType';
    const file = join(dir, 'broken.template.json');
    writeFileSync(file, JSON.stringify(broken));
    const result = cfnLint([file]);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/^E\d{4} /m);
  });

  it('deploys as the launcher the very bundle npm run build makes (dist/launcher.js)', () => {
    const [fn] = resourcesOf(template(managed, 'iwomp'), 'AWS::Lambda::Function');
    const asset = join(assetDir(managed, fn.Properties.Code.S3Key), 'index.mjs');
    expect(sha256(asset)).toBe(sha256(join(root, 'dist/launcher.js')));
  });

  it('gives the worker, as its source, the very bundle npm run build makes (dist/worker.js and its chunks)', () => {
    const built = readdirSync(join(root, 'dist/chunks')).filter((f) => f.startsWith('worker-'));
    expect(built.length).toBeGreaterThan(0);
    for (const outdir of [managed, lambda]) {
      const [project] = resourcesOf(template(outdir, 'iwomp'), 'AWS::CodeBuild::Project');
      const asset = assetDir(outdir, project.Properties.Source.Location);
      expect(sha256(join(asset, 'worker.js'))).toBe(sha256(join(root, 'dist/worker.js')));
      expect(readdirSync(join(asset, 'chunks')).sort()).toEqual(built.sort());
      for (const chunk of built) {
        expect(sha256(join(asset, 'chunks', chunk))).toBe(sha256(join(root, 'dist/chunks', chunk)));
      }
      expect(JSON.parse(readFileSync(join(asset, 'package.json'), 'utf8'))).toEqual({ type: 'module' });
    }
  });
});

describe('the demo project registration', () => {
  it('is not made without iwomp:demo: no iwomp-projects stack, no registry parameter', () => {
    // GIVEN the app with the context of cdk.json and nothing else
    const app = new App({ context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [] } });
    // WHEN its stacks are added and synthesized
    const stacks = addIwompStacks(
      app,
      readAppOptions((key) => app.node.tryGetContext(key)),
    );
    const assembly = app.synth();
    // THEN nothing registers a project
    expect(stacks.projects).toBeUndefined();
    expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual(['iwomp', 'iwomp-policies']);
    for (const stack of assembly.stacks)
      expect(resourcesOf(stack.template, 'AWS::SSM::Parameter')).toEqual([]);
  });

  it('is made with -c iwomp:demo=true', () => {
    const app = new App({
      context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [], 'iwomp:demo': 'true' },
    });
    const stacks = addIwompStacks(
      app,
      readAppOptions((key) => app.node.tryGetContext(key)),
    );
    const [parameter] = resourcesOf(
      app.synth().getStackByName('iwomp-projects').template,
      'AWS::SSM::Parameter',
    );
    expect(stacks.projects).toBeDefined();
    expect(parameter.Properties.Name).toBe('/iwomp-in-aws/demo');
  });
});

describe('readAppOptions', () => {
  const read = (context: Record<string, unknown>) => () => readAppOptions((key) => context[key]);

  it('reads the app settings from context, lists as arrays or comma-separated text', () => {
    expect(
      read({
        'iwomp:configPath': 'team/iwomp',
        'iwomp:workerImage': 'ecr',
        'iwomp:githubRepositories': 'acme/app, acme/infra',
        'iwomp:githubBranches': ['main'],
      })(),
    ).toEqual({
      configPath: 'team/iwomp',
      workerImage: 'ecr',
      githubRepositories: ['acme/app', 'acme/infra'],
      githubBranches: ['main'],
    });
    expect(read({})()).toEqual({});
  });

  it('reads the demo flag and the GitHub role projects', () => {
    expect(read({ 'iwomp:demo': 'true', 'iwomp:githubProjects': 'web,api' })()).toEqual({
      demo: true,
      githubProjects: ['web', 'api'],
    });
    expect(read({ 'iwomp:demo': false })()).toEqual({ demo: false });
    expect(read({ 'iwomp:demo': 'yes' })).toThrow(/iwomp:demo: expected true or false, got "yes"/);
  });

  it('refuses an unknown worker image', () => {
    expect(read({ 'iwomp:workerImage': 'docker' })).toThrow(
      /iwomp:workerImage: expected managed, lambda or ecr, got "docker"/,
    );
  });

  it('refuses a setting of the wrong type', () => {
    expect(read({ 'iwomp:configPath': 42 })).toThrow(/iwomp:configPath: expected a string/);
    expect(read({ 'iwomp:githubBranches': 42 })).toThrow(/iwomp:githubBranches: expected a list/);
  });
});
