import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  BatchGetBuildsCommand,
  CodeBuildClient,
  CreateProjectCommand,
  StartBuildCommand,
} from '@aws-sdk/client-codebuild';
import { IAMClient, ListRolesCommand } from '@aws-sdk/client-iam';
import {
  GetParameterCommand,
  GetParametersCommand,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../infra/helpers.js';
import { canAssumeRole } from './iam-eval.js';
import { type Moto, startMoto } from './moto.js';
import {
  assumeRole,
  createTemplateIam,
  roleClientConfig,
  roleEnv,
  type TemplateIam,
} from './template-iam.js';

const run = promisify(execFile);

/** A stack with one role reading one registry parameter and starting one CodeBuild project. */
function readerTemplate() {
  const stack = new Stack(testApp(), 'Reader');
  const role = new iam.Role(stack, 'Reader', {
    assumedBy: new iam.ArnPrincipal(`arn:aws:iam::${stack.account}:role/iwomp-worker`),
    path: '/iwomp-deploy/',
  });
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['ssm:GetParameter', 'ssm:GetParameters'],
      resources: [stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: 'iwomp-in-aws/a' })],
    }),
  );
  new iam.Role(stack, 'Auditor', {
    assumedBy: new iam.AccountRootPrincipal(),
    managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMReadOnlyAccess')],
  });
  new iam.ManagedPolicy(stack, 'Builds', {
    roles: [role],
    statements: [
      new iam.PolicyStatement({
        actions: ['codebuild:StartBuild', 'codebuild:BatchGetBuilds'],
        resources: [stack.formatArn({ service: 'codebuild', resource: 'project', resourceName: 'allowed' })],
      }),
    ],
  });
  return Template.fromStack(stack).toJSON() as never;
}

describe('moto with IAM enforced, and roles from a synthesized template', () => {
  let moto: Moto;
  let created: TemplateIam;

  beforeAll(async () => {
    // moto boots (a Python process) while the stack synthesizes.
    const motoStarting = startMoto({ enforceIam: true, awsManagedPolicies: true });
    const template = readerTemplate();
    moto = await motoStarting;
    const ssm = new SSMClient(moto.clientConfig);
    for (const name of ['/iwomp-in-aws/a', '/iwomp-in-aws/b']) {
      await ssm.send(
        new PutParameterCommand({ Name: name, Value: `value of ${name}`, Type: 'SecureString' }),
      );
    }
    const codebuild = new CodeBuildClient(moto.clientConfig);
    for (const name of ['allowed', 'other']) {
      await codebuild.send(
        new CreateProjectCommand({
          name,
          source: { type: 'NO_SOURCE', location: 'none', buildspec: 'version: 0.2' },
          artifacts: { type: 'NO_ARTIFACTS' },
          environment: {
            type: 'LINUX_CONTAINER',
            image: 'aws/codebuild/standard:7.0',
            computeType: 'BUILD_GENERAL1_SMALL',
          },
          serviceRole: `arn:aws:iam::${moto.account}:role/service`,
        }),
      );
    }
    created = await createTemplateIam(moto, [{ stackName: 'reader', template }]);
  }, 150_000); // moto with AWS managed policies and a CDK synth: slow on a loaded machine

  afterAll(async () => {
    await moto?.stop();
  });

  it('enforces IAM: the dummy keys are refused, the admin is allowed', async () => {
    // GIVEN a client with keys moto never issued
    const stranger = new IAMClient({
      ...moto.clientConfig,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    // WHEN / THEN
    await expect(stranger.send(new ListRolesCommand({}))).rejects.toThrow(
      /security token|InvalidClientTokenId/i,
    );
    const admin = new IAMClient(moto.clientConfig);
    const roles = await admin.send(new ListRolesCommand({}));
    expect(roles.Roles?.map((r) => r.Arn)).toContain(
      created.role((r) => r.logicalId.startsWith('Reader')).arn,
    );
  });

  it('creates the role with its resolved name, path, inline and managed policies', () => {
    // GIVEN / WHEN the role from the template
    const role = created.role((r) => r.logicalId.startsWith('Reader'));
    // THEN its ARN and documents are resolved
    expect(role.arn).toMatch(/^arn:aws:iam::123456789012:role\/iwomp-deploy\/reader-Reader[A-F0-9]+$/);
    expect(JSON.stringify(created.identityPolicies(role))).toContain(
      '"arn:aws:ssm:us-east-1:123456789012:parameter/iwomp-in-aws/a"',
    );
    expect(JSON.stringify(created.identityPolicies(role))).toContain(
      '"arn:aws:codebuild:us-east-1:123456789012:project/allowed"',
    );
    expect(role.trustPolicy).toMatchObject({
      Statement: [{ Principal: { AWS: 'arn:aws:iam::123456789012:role/iwomp-worker' } }],
    });
  });

  it('checks SSM GetParameter/GetParameters against the parameter ARN: /a is readable, /b is denied', async () => {
    // GIVEN credentials of the role, allowed ssm:GetParameter on /iwomp-in-aws/a only
    const role = created.role((r) => r.logicalId.startsWith('Reader'));
    const ssm = new SSMClient(roleClientConfig(moto, await assumeRole(moto, role.arn)));
    // WHEN / THEN /a is read, /b is refused with the JSON protocol's AccessDeniedException
    const a = await ssm.send(new GetParameterCommand({ Name: '/iwomp-in-aws/a', WithDecryption: true }));
    expect(a.Parameter?.Value).toBe('value of /iwomp-in-aws/a');
    await expect(ssm.send(new GetParameterCommand({ Name: '/iwomp-in-aws/b' }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringMatching(
        /ssm:GetParameter on resource: arn:aws:ssm:us-east-1:123456789012:parameter\/iwomp-in-aws\/b/,
      ),
    });
    // GetParameters needs every name allowed
    const both = ssm.send(new GetParametersCommand({ Names: ['/iwomp-in-aws/a', '/iwomp-in-aws/b'] }));
    await expect(both).rejects.toMatchObject({ name: 'AccessDeniedException' });
    const one = await ssm.send(new GetParametersCommand({ Names: ['/iwomp-in-aws/a'] }));
    expect(one.Parameters?.map((p) => p.Name)).toEqual(['/iwomp-in-aws/a']);
  });

  it('checks CodeBuild StartBuild/BatchGetBuilds against the project ARN', async () => {
    // GIVEN credentials of the role, allowed to start and read builds of `allowed` only
    const role = created.role((r) => r.logicalId.startsWith('Reader'));
    const codebuild = new CodeBuildClient(roleClientConfig(moto, await assumeRole(moto, role.arn)));
    // WHEN / THEN
    const started = await codebuild.send(new StartBuildCommand({ projectName: 'allowed' }));
    const id = started.build?.id ?? '';
    expect(id).toMatch(/^allowed:/);
    const read = await codebuild.send(new BatchGetBuildsCommand({ ids: [id] }));
    expect(read.builds?.[0]?.id).toBe(id);
    await expect(codebuild.send(new StartBuildCommand({ projectName: 'other' }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
  });

  it('hands the role to a child process through its environment (aws CLI)', async () => {
    // GIVEN the role's environment
    const role = created.role((r) => r.logicalId.startsWith('Reader'));
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: '/nonexistent',
      ...roleEnv(moto, await assumeRole(moto, role.arn, { sessionName: 'cli' })),
    };
    // WHEN the aws CLI asks who it is and reads both parameters
    const who = JSON.parse(
      (await run('aws', ['sts', 'get-caller-identity', '--output', 'json'], { env })).stdout,
    );
    const denied = await run('aws', ['ssm', 'get-parameter', '--name', '/iwomp-in-aws/b'], { env }).catch(
      (e) => e,
    );
    // THEN it acts as the role's session and is denied /b
    expect(who.Arn).toBe(`arn:aws:sts::123456789012:assumed-role/${role.name}/cli`);
    expect(String(denied.stderr)).toMatch(/AccessDenied/);
  });

  it('attaches AWS managed policies by ARN, and moto enforces them', async () => {
    // GIVEN a role with AmazonSSMReadOnlyAccess
    const role = created.role((r) => r.logicalId.startsWith('Auditor'));
    expect(role.managedPolicyArns).toEqual(['arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess']);
    const ssm = new SSMClient(roleClientConfig(moto, await assumeRole(moto, role.arn)));
    // WHEN / THEN it reads any parameter, and writes none
    const b = await ssm.send(new GetParameterCommand({ Name: '/iwomp-in-aws/b' }));
    expect(b.Parameter?.Name).toBe('/iwomp-in-aws/b');
    await expect(
      ssm.send(new PutParameterCommand({ Name: '/iwomp-in-aws/b', Value: 'x', Overwrite: true })),
    ).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
    // AND iam-eval is not handed a document it does not have
    expect(() => created.identityPolicies(role)).toThrow(/not a policy of these templates/);
  });

  it('returns the real trust policy for iam-eval (moto holds an open one)', () => {
    // GIVEN the role's resolved trust policy
    const role = created.role((r) => r.logicalId.startsWith('Reader'));
    const ask = (caller: string) =>
      canAssumeRole({
        caller: {
          roleArn: caller,
          identityPolicies: [{ Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }] }],
        },
        target: { roleArn: role.arn, trustPolicy: role.trustPolicy },
      });
    // WHEN / THEN only the named worker role may assume it
    expect(ask('arn:aws:iam::123456789012:role/iwomp-worker').allowed).toBe(true);
    expect(ask('arn:aws:iam::123456789012:role/another').allowed).toBe(false);
  });
});
