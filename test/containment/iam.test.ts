/**
 * Containment in IAM, enforced: the seed app (`addIwompStacks(app, { demo: true })`) synthesized
 * with its bundles, its roles and policies created in moto with IAM checked on every call, and the
 * trust side (source identity, session tags, trust policies) decided by iam-eval.ts with the
 * template's real policies. What each role may do, and what a deploy command with the demo
 * project's credentials cannot reach.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  BatchGetBuildsCommand,
  CodeBuildClient,
  type ComputeType,
  CreateProjectCommand,
  StartBuildCommand,
} from '@aws-sdk/client-codebuild';
import {
  CreateTableCommand,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateTopicCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import * as cdkIam from 'aws-cdk-lib/aws-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ACTIVE,
  ACTIVE_LANE,
  ACTIVE_LANES_INDEX,
  BY_PROJECT_INDEX,
  laneKey,
  PK,
  recordKey,
  WORKER_ATTRIBUTES,
} from '../../src/adapters/aws/deploy-table.js';
import { DeployTableReport } from '../../src/adapters/aws/deploy-table-report.js';
import { STREAM_LABEL } from '../support/cfn-resolve.js';
import type { EmulatedProject } from '../support/codebuild-emulator.js';
import { canAssumeRole, isAllowed, type PolicyDocument } from '../support/iam-eval.js';
import type { Moto } from '../support/moto.js';
import {
  assumeRole,
  type DeployedRole,
  type RoleCredentials,
  roleClientConfig,
  roleEnv,
  type TemplateIam,
} from '../support/template-iam.js';
import { seedAppInMoto } from './seed-app.js';

const run = promisify(execFile);

// Synthesis with bundling and moto: ~20 s idle, several times that on a loaded machine.
const SETUP_TIMEOUT_MS = 150_000;
const ACCOUNT = '123456789012';
const COMMIT = 'a'.repeat(40);
const SESSION_TAGS = { 'iwomp:project': 'demo', 'iwomp:branch': 'main', 'iwomp:commit': COMMIT };
// The CDK bootstrap roles (default qualifier): what the seed's worker could assume.
const BOOTSTRAP_DEPLOY_ROLE = `arn:aws:iam::${ACCOUNT}:role/cdk-hnb659fds-deploy-role-${ACCOUNT}-us-east-1`;
const BOOTSTRAP_PUBLISHING_ROLE = `arn:aws:iam::${ACCOUNT}:role/cdk-hnb659fds-file-publishing-role-${ACCOUNT}-us-east-1`;
// A bootstrap role's trust as `cdk bootstrap` writes it: the whole account, so only the caller's
// own identity policy stands between a role of the account and it.
const ACCOUNT_TRUST: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action: ['sts:AssumeRole', 'sts:TagSession'],
    },
  ],
};

let root: string;
let moto: Moto;
let iam: TemplateIam;
let worker: EmulatedProject;
let launcherRole: DeployedRole;
let notifierRole: DeployedRole;
let notifierCreds: RoleCredentials;
let workerRole: DeployedRole;
let demoRole: DeployedRole;
let launcherCreds: RoleCredentials;
let workerCreds: RoleCredentials;
let demoCreds: RoleCredentials;
let otherProjectName: string;
let watcherRole: DeployedRole;
let watcherCreds: RoleCredentials;
/** The deploy table, the results and trigger topics, and the log groups, as deployed in moto. */
let table: { name: string; arn: string };
let resultsTopicArn: string;
let triggerTopicArn: string;
let workerLogGroup: string;
let launcherLogGroup: string;
const BUILD_STREAM = 'build-1';

/** The AWS error name of a call, or 'ok'. */
async function outcome(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return 'ok';
  } catch (error) {
    return (error as Error).name;
  }
}

/** The real aws CLI as a role's session: exit code and output. */
async function awsCli(creds: RoleCredentials, ...args: string[]) {
  try {
    const { stdout, stderr } = await run('aws', args, {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...roleEnv(moto, creds) },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'iwomp-containment-iam-'));
  // GIVEN the seed app with the demo project, synthesized with its bundles, its roles and
  // policies in moto with IAM enforced (the pipeline first, as it deploys)
  // (and a role given grantWatch with logs, as the GitHub Actions role gets it)
  let iwompTemplate: Awaited<ReturnType<typeof seedAppInMoto>>['iwompTemplate'];
  ({
    moto,
    iam,
    project: worker,
    iwompTemplate,
  } = await seedAppInMoto(join(root, 'cdk.out'), (pipeline) => {
    const watcher = new cdkIam.Role(pipeline, 'TestWatcher', {
      assumedBy: new cdkIam.AccountRootPrincipal(),
    });
    pipeline.grantWatch(watcher, { logs: true });
  }));
  watcherRole = iam.role((r) => r.stackName === 'iwomp' && r.logicalId.startsWith('PipelineTestWatcher'));
  launcherRole = iam.role((r) => r.stackName === 'iwomp' && r.logicalId.startsWith('PipelineLauncherRole'));
  notifierRole = iam.role((r) => r.stackName === 'iwomp' && r.logicalId.startsWith('PipelineNotifierRole'));
  workerRole = iam.role(worker.serviceRoleArn);
  demoRole = iam.role((r) => r.stackName === 'iwomp-policies' && r.logicalId.startsWith('DemoDeployRole'));

  // AND, as the admin: the registry, the worker project and another one, the worker's asset object
  // and the bootstrap roles (open trust in moto: only the caller's identity policy can refuse)
  const ssm = new SSMClient(moto.clientConfig);
  for (const name of ['demo', 'other', '_default']) {
    await ssm.send(
      new PutParameterCommand({ Name: `/iwomp-in-aws/${name}`, Type: 'String', Value: `{"doc":"${name}"}` }),
    );
  }
  ssm.destroy();
  const codebuild = new CodeBuildClient(moto.clientConfig);
  otherProjectName = 'someone-elses-project';
  for (const name of [worker.name, otherProjectName]) {
    await codebuild.send(
      new CreateProjectCommand({
        name,
        source: { type: 'S3', location: `${name}-bucket/source.zip` },
        artifacts: { type: 'NO_ARTIFACTS' },
        environment: {
          type: 'LINUX_CONTAINER',
          image: worker.image,
          computeType: worker.computeType as ComputeType,
        },
        serviceRole: worker.serviceRoleArn,
      }),
    );
  }
  codebuild.destroy();
  if (worker.source.type !== 'S3') throw new Error('the worker project has no S3 source');
  const admin = { ...moto.env, PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root' };
  const body = join(root, 'worker.zip');
  writeFileSync(body, 'the worker bundle');
  await run('aws', ['s3api', 'create-bucket', '--bucket', worker.source.bucket], { env: admin });
  await run(
    'aws',
    ['s3api', 'put-object', '--bucket', worker.source.bucket, '--key', worker.source.key, '--body', body],
    { env: admin },
  );
  const iamClient = new IAMClient(moto.clientConfig);
  for (const arn of [BOOTSTRAP_DEPLOY_ROLE, BOOTSTRAP_PUBLISHING_ROLE]) {
    await iamClient.send(
      new CreateRoleCommand({
        RoleName: arn.slice(arn.lastIndexOf('/') + 1),
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
  }
  iamClient.destroy();
  await deployLifecycleResources(iwompTemplate);

  // AND a session of each role (the demo one as the worker opens it: source identity and tags)
  launcherCreds = await assumeRole(moto, launcherRole.arn, { sessionName: 'launcher' });
  notifierCreds = await assumeRole(moto, notifierRole.arn, { sessionName: 'notifier' });
  workerCreds = await assumeRole(moto, workerRole.arn, { sessionName: 'AWSCodeBuild-test' });
  demoCreds = await assumeRole(moto, demoRole.arn, {
    sessionName: 'iwomp-demo-test',
    sourceIdentity: 'iwomp-demo',
    tags: SESSION_TAGS,
  });
  watcherCreds = await assumeRole(moto, watcherRole.arn, { sessionName: 'ci' });
}, SETUP_TIMEOUT_MS);

/**
 * As the admin, what CloudFormation would create from the template: the deploy table (its key
 * and index as synthesized), the results and trigger topics, the log groups with one build's
 * stream; and two items, a deploy record and a lane.
 */
async function deployLifecycleResources(
  template: Awaited<ReturnType<typeof seedAppInMoto>>['iwompTemplate'],
) {
  const resolver = iam.resolvers.get('iwomp');
  if (!resolver) throw new Error('no resolver for the iwomp stack');
  const only = (type: string, prefix: string) => {
    const ids = resolver.ofType(type).filter((id) => id.startsWith(prefix));
    if (ids.length !== 1) throw new Error(`${ids.length} ${type} named ${prefix}*`);
    return ids[0] as string;
  };
  const tableId = only('AWS::DynamoDB::Table', 'PipelineDeployTable');
  const tableProperties = template.Resources[tableId]?.Properties as Record<string, never>;
  table = {
    name: resolver.physicalName(tableId),
    arn: resolver.resolveString({ 'Fn::GetAtt': [tableId, 'Arn'] }, 'table arn'),
  };
  const dynamodb = new DynamoDBClient(moto.clientConfig);
  await dynamodb.send(
    new CreateTableCommand({
      TableName: table.name,
      KeySchema: tableProperties.KeySchema,
      AttributeDefinitions: tableProperties.AttributeDefinitions,
      GlobalSecondaryIndexes: tableProperties.GlobalSecondaryIndexes,
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await dynamodb.send(
    new PutItemCommand({
      TableName: table.name,
      Item: {
        ...recordKey('t1'),
        project: { S: 'demo' },
        createdAt: { S: '2026-01-01T00:00:00Z' },
        state: { S: 'started' },
      },
    }),
  );
  await dynamodb.send(
    new PutItemCommand({ TableName: table.name, Item: { ...laneKey('demo'), version: { N: '1' } } }),
  );
  dynamodb.destroy();
  const sns = new SNSClient(moto.clientConfig);
  resultsTopicArn = (
    await sns.send(
      new CreateTopicCommand({
        Name: resolver.physicalName(only('AWS::SNS::Topic', 'PipelineResultsTopic')),
      }),
    )
  ).TopicArn as string;
  triggerTopicArn = (
    await sns.send(
      new CreateTopicCommand({ Name: resolver.physicalName(only('AWS::SNS::Topic', 'PipelineTopic')) }),
    )
  ).TopicArn as string;
  sns.destroy();
  const logs = new CloudWatchLogsClient(moto.clientConfig);
  workerLogGroup = resolver.physicalName(only('AWS::Logs::LogGroup', 'PipelineWorkerLogs'));
  launcherLogGroup = resolver.physicalName(only('AWS::Logs::LogGroup', 'PipelineLauncherLogs'));
  for (const group of [workerLogGroup, launcherLogGroup]) {
    await logs.send(new CreateLogGroupCommand({ logGroupName: group }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: BUILD_STREAM }));
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: group,
        logStreamName: BUILD_STREAM,
        logEvents: [{ timestamp: Date.now(), message: 'deploying' }],
      }),
    );
  }
  logs.destroy();
}

afterAll(async () => {
  await moto?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('the launcher role', () => {
  it('reads the registry and starts the worker project', async () => {
    // GIVEN clients as the launcher's session
    const ssm = new SSMClient(roleClientConfig(moto, launcherCreds));
    const codebuild = new CodeBuildClient(roleClientConfig(moto, launcherCreds));
    // WHEN it reads a project and starts the worker
    const read = await ssm.send(new GetParameterCommand({ Name: '/iwomp-in-aws/demo' }));
    const started = await codebuild.send(new StartBuildCommand({ projectName: worker.name }));
    // THEN both succeed
    expect(read.Parameter?.Value).toBe('{"doc":"demo"}');
    expect(started.build?.projectName).toBe(worker.name);
    ssm.destroy();
    codebuild.destroy();
  });

  it('may start no other project and write nothing in the registry', async () => {
    // GIVEN clients as the launcher's session
    const ssm = new SSMClient(roleClientConfig(moto, launcherCreds));
    const codebuild = new CodeBuildClient(roleClientConfig(moto, launcherCreds));
    // WHEN it starts another project, or writes a parameter
    const other = await outcome(() =>
      codebuild.send(new StartBuildCommand({ projectName: otherProjectName })),
    );
    const put = await outcome(() =>
      ssm.send(new PutParameterCommand({ Name: '/iwomp-in-aws/demo', Value: '{}', Overwrite: true })),
    );
    // THEN both are denied
    expect(other).toBe('AccessDeniedException');
    expect(put).toBe('AccessDeniedException');
    ssm.destroy();
    codebuild.destroy();
  });
});

describe('the worker role', () => {
  it('reads the registry and may write nothing in it', async () => {
    // GIVEN a client as the worker's session
    const ssm = new SSMClient(roleClientConfig(moto, workerCreds));
    // WHEN it reads a project and writes one
    const read = await ssm.send(
      new GetParameterCommand({ Name: '/iwomp-in-aws/demo', WithDecryption: true }),
    );
    const put = await outcome(() =>
      ssm.send(new PutParameterCommand({ Name: '/iwomp-in-aws/demo', Value: '{}', Overwrite: true })),
    );
    // THEN it reads, and the write is denied
    expect(read.Parameter?.Value).toBe('{"doc":"demo"}');
    expect(put).toBe('AccessDeniedException');
    ssm.destroy();
  });

  it("assumes the demo deploy role with the demo project's source identity and its three tags", () => {
    // WHEN the worker asks for the demo role as the worker does (real trust and identity policies)
    const answer = canAssumeRole({
      caller: { roleArn: workerRole.arn, identityPolicies: iam.identityPolicies(workerRole) },
      target: { roleArn: demoRole.arn, trustPolicy: demoRole.trustPolicy, tags: demoRole.tags },
      sourceIdentity: 'iwomp-demo',
      sessionTags: SESSION_TAGS,
    });
    // THEN it is allowed, and the role is on the deploy path
    expect(answer.reason).toBe('');
    expect(answer.allowed).toBe(true);
    expect(demoRole.arn).toMatch(/^arn:aws:iam::123456789012:role\/iwomp-deploy\//);
  });

  it("cannot assume the demo role for another project's source identity, nor with tags of its own choosing", () => {
    // WHEN the worker asks for the demo role as project `other`, or with an extra tag
    const asOther = canAssumeRole({
      caller: { roleArn: workerRole.arn, identityPolicies: iam.identityPolicies(workerRole) },
      target: { roleArn: demoRole.arn, trustPolicy: demoRole.trustPolicy, tags: demoRole.tags },
      sourceIdentity: 'iwomp-other',
      sessionTags: { ...SESSION_TAGS, 'iwomp:project': 'other' },
    });
    const extraTag = canAssumeRole({
      caller: { roleArn: workerRole.arn, identityPolicies: iam.identityPolicies(workerRole) },
      target: { roleArn: demoRole.arn, trustPolicy: demoRole.trustPolicy, tags: demoRole.tags },
      sourceIdentity: 'iwomp-demo',
      sessionTags: { ...SESSION_TAGS, admin: 'true' },
    });
    // THEN both are denied
    expect(asOther.allowed).toBe(false);
    expect(extraTag.allowed).toBe(false);
  });

  it('cannot assume a role outside /iwomp-deploy/: the CDK bootstrap roles trust the whole account', () => {
    for (const target of [BOOTSTRAP_DEPLOY_ROLE, BOOTSTRAP_PUBLISHING_ROLE]) {
      // WHEN the worker asks for a bootstrap role, which trusts any role of the account (plainly:
      // the bootstrap trust has no sts:SetSourceIdentity, so a source identity would be refused there)
      const answer = canAssumeRole({
        caller: { roleArn: workerRole.arn, identityPolicies: iam.identityPolicies(workerRole) },
        target: { roleArn: target, trustPolicy: ACCOUNT_TRUST },
      });
      // THEN its own identity policy refuses it
      expect(answer.allowed, target).toBe(false);
      expect(answer.checks.find((c) => c.action === 'sts:AssumeRole')?.identity, target).toBe(
        'implicit-deny',
      );
    }
  });

  it('in moto, its session assumes the demo role and is refused the bootstrap roles', async () => {
    // GIVEN an STS client as the worker's session (moto checks the identity side on the role's ARN)
    const sts = new STSClient(roleClientConfig(moto, workerCreds));
    const assume = (RoleArn: string) =>
      outcome(() =>
        sts.send(
          new AssumeRoleCommand({
            RoleArn,
            RoleSessionName: 'iwomp-demo-test',
            SourceIdentity: 'iwomp-demo',
            Tags: Object.entries(SESSION_TAGS).map(([Key, Value]) => ({ Key, Value })),
          }),
        ),
      );
    // WHEN it assumes the demo role, then each bootstrap role (open trust in moto)
    const demo = await assume(demoRole.arn);
    const bootstrap = [await assume(BOOTSTRAP_DEPLOY_ROLE), await assume(BOOTSTRAP_PUBLISHING_ROLE)];
    // THEN only the deploy role
    expect(demo).toBe('ok');
    expect(bootstrap).toEqual(['AccessDenied', 'AccessDenied']);
    sts.destroy();
  });

  it('holds no deploy rights of its own (no CloudFormation, no SQS, no write to its source)', () => {
    // GIVEN the worker role's identity policies
    const policies = iam.identityPolicies(workerRole);
    // THEN
    expect(isAllowed(policies, 'cloudformation:CreateStack', '*')).toBe(false);
    expect(isAllowed(policies, 'sqs:CreateQueue', `arn:aws:sqs:us-east-1:${ACCOUNT}:q`)).toBe(false);
    if (worker.source.type !== 'S3') throw new Error('no S3 source');
    const object = `arn:aws:s3:::${worker.source.bucket}/${worker.source.key}`;
    expect(isAllowed(policies, 's3:GetObject', object)).toBe(true);
    expect(isAllowed(policies, 's3:PutObject', object)).toBe(false);
  });
});

describe("the demo project's deploy role, as its deploy command holds it", () => {
  it("is denied another project's parameter and _default", async () => {
    // GIVEN a client with the demo project's credentials
    const ssm = new SSMClient(roleClientConfig(moto, demoCreds));
    // WHEN it reads project `other`, `_default`, and its own entry
    const results = await Promise.all(
      ['other', '_default', 'demo'].map((name) =>
        outcome(() =>
          ssm.send(new GetParameterCommand({ Name: `/iwomp-in-aws/${name}`, WithDecryption: true })),
        ),
      ),
    );
    // THEN every read is denied: the registry is the pipeline's, not the projects'
    expect(results).toEqual(['AccessDeniedException', 'AccessDeniedException', 'AccessDeniedException']);
    ssm.destroy();
  });

  it("can neither read nor overwrite the worker's source object", async () => {
    if (worker.source.type !== 'S3') throw new Error('no S3 source');
    const { bucket, key } = worker.source;
    // WHEN the aws CLI, as the demo session, reads and overwrites the worker's zip
    const body = join(root, 'evil.zip');
    writeFileSync(body, 'an attacker worker');
    const get = await awsCli(
      demoCreds,
      's3api',
      'get-object',
      '--bucket',
      bucket,
      '--key',
      key,
      join(root, 'got'),
    );
    const put = await awsCli(
      demoCreds,
      's3api',
      'put-object',
      '--bucket',
      bucket,
      '--key',
      key,
      '--body',
      body,
    );
    // THEN both are denied
    expect(get.code).not.toBe(0);
    expect(get.stderr).toMatch(/AccessDenied/);
    expect(put.code).not.toBe(0);
    expect(put.stderr).toMatch(/AccessDenied/);
    // AND the worker's own session still reads it, unchanged
    const out = join(root, 'worker-got');
    const workerGet = await awsCli(workerCreds, 's3api', 'get-object', '--bucket', bucket, '--key', key, out);
    expect(workerGet.stderr).toBe('');
    expect(workerGet.code).toBe(0);
  });

  it('cannot assume the CDK bootstrap roles', async () => {
    // GIVEN an STS client with the demo project's credentials
    const sts = new STSClient(roleClientConfig(moto, demoCreds));
    for (const target of [BOOTSTRAP_DEPLOY_ROLE, BOOTSTRAP_PUBLISHING_ROLE]) {
      // WHEN it assumes a bootstrap role (open trust in moto)
      const result = await outcome(() =>
        sts.send(new AssumeRoleCommand({ RoleArn: target, RoleSessionName: 'escalate' })),
      );
      // THEN moto refuses it on the demo role's identity policy
      expect(result, target).toBe('AccessDenied');
      // AND so does IAM's logic with the bootstrap role's real trust (the whole account)
      const answer = canAssumeRole({
        caller: {
          roleArn: demoRole.arn,
          identityPolicies: iam.identityPolicies(demoRole),
          sourceIdentity: 'iwomp-demo',
        },
        target: { roleArn: target, trustPolicy: ACCOUNT_TRUST },
      });
      expect(answer.allowed, target).toBe(false);
    }
    sts.destroy();
  });

  it('may use its own demo rights: it creates an SQS queue', async () => {
    // GIVEN an SQS client with the demo project's credentials
    const sqs = new SQSClient(roleClientConfig(moto, demoCreds));
    // WHEN it creates a queue
    const created = await sqs.send(new CreateQueueCommand({ QueueName: 'demo-queue' }));
    // THEN it exists
    expect(created.QueueUrl).toMatch(/demo-queue$/);
    sqs.destroy();
  });

  it("shows as the demo role's assumed-role session to `aws sts get-caller-identity`", async () => {
    // WHEN the real aws CLI asks who it is, with the session in its environment
    const who = await awsCli(demoCreds, 'sts', 'get-caller-identity', '--output', 'json');
    // THEN it is the demo role's session
    expect(who.stderr).toBe('');
    const identity = JSON.parse(who.stdout) as { Arn: string; Account: string };
    expect(identity.Account).toBe(ACCOUNT);
    expect(identity.Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/${demoRole.name}/iwomp-demo-test`);
    expect(identity.Arn).toBe(demoCreds.assumedRoleArn);
  });
});

/** An UpdateItem request's IAM context: what iam-eval decides, as DynamoDB would fill it in. */
function updateContext(key: string, attributes: string[], returnValues?: string) {
  return {
    'dynamodb:LeadingKeys': [key],
    'dynamodb:Attributes': attributes,
    ...(returnValues === undefined ? {} : { 'dynamodb:ReturnValues': returnValues }),
  };
}

describe('the deploy table and the results topic', () => {
  it('the launcher reads and writes records and lanes (per item in a transaction) and queries its active lanes', async () => {
    // GIVEN clients as the launcher's session
    const dynamodb = new DynamoDBClient(roleClientConfig(moto, launcherCreds));
    const codebuild = new CodeBuildClient(roleClientConfig(moto, launcherCreds));
    // WHEN it creates a record, moves a lane and checks a record in one transaction, reads,
    // updates, queries the active lanes and asks CodeBuild about a build of the worker
    const calls = {
      put: await outcome(() =>
        dynamodb.send(
          new PutItemCommand({
            TableName: table.name,
            Item: { ...recordKey('t2'), state: { S: 'received' } },
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': PK },
          }),
        ),
      ),
      transaction: await outcome(() =>
        dynamodb.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              { Put: { TableName: table.name, Item: { ...recordKey('t3'), state: { S: 'queued' } } } },
              {
                Update: {
                  TableName: table.name,
                  Key: laneKey('demo'),
                  UpdateExpression: 'SET version = :v',
                  ExpressionAttributeValues: { ':v': { N: '2' } },
                },
              },
              {
                ConditionCheck: {
                  TableName: table.name,
                  Key: recordKey('t1'),
                  ConditionExpression: 'attribute_exists(#pk)',
                  ExpressionAttributeNames: { '#pk': PK },
                },
              },
            ],
          }),
        ),
      ),
      get: await outcome(() =>
        dynamodb.send(new GetItemCommand({ TableName: table.name, Key: laneKey('demo') })),
      ),
      update: await outcome(() =>
        dynamodb.send(
          new UpdateItemCommand({
            TableName: table.name,
            Key: recordKey('t2'),
            UpdateExpression: 'SET #s = :s',
            ExpressionAttributeNames: { '#s': 'state' },
            ExpressionAttributeValues: { ':s': { S: 'rejected' } },
          }),
        ),
      ),
      activeLanes: await outcome(() =>
        dynamodb.send(
          new QueryCommand({
            TableName: table.name,
            IndexName: ACTIVE_LANES_INDEX,
            KeyConditionExpression: '#a = :lane',
            ExpressionAttributeNames: { '#a': ACTIVE },
            ExpressionAttributeValues: { ':lane': { S: ACTIVE_LANE } },
          }),
        ),
      ),
      builds: await outcome(() => codebuild.send(new BatchGetBuildsCommand({ ids: [`${worker.name}:x`] }))),
    };
    // THEN every call is allowed
    expect(calls).toEqual({
      put: 'ok',
      transaction: 'ok',
      get: 'ok',
      update: 'ok',
      activeLanes: 'ok',
      builds: 'ok',
    });
    dynamodb.destroy();
    codebuild.destroy();
  });

  it('the launcher may delete nothing, scan nothing, query no history, publish no trigger and no result (the notifier does)', async () => {
    // GIVEN clients as the launcher's session
    const dynamodb = new DynamoDBClient(roleClientConfig(moto, launcherCreds));
    const sns = new SNSClient(roleClientConfig(moto, launcherCreds));
    // WHEN it deletes a record, scans the table, queries the history index, or publishes to the trigger or results topic
    const denied = [
      // t2, not the t1 other tests read: a widened grant fails this test alone.
      await outcome(() =>
        dynamodb.send(new DeleteItemCommand({ TableName: table.name, Key: recordKey('t2') })),
      ),
      await outcome(() => dynamodb.send(new ScanCommand({ TableName: table.name }))),
      await outcome(() =>
        dynamodb.send(
          new QueryCommand({
            TableName: table.name,
            IndexName: BY_PROJECT_INDEX,
            KeyConditionExpression: 'project = :p',
            ExpressionAttributeValues: { ':p': { S: 'demo' } },
          }),
        ),
      ),
      await outcome(() => sns.send(new PublishCommand({ TopicArn: triggerTopicArn, Message: '{}' }))),
      await outcome(() => sns.send(new PublishCommand({ TopicArn: resultsTopicArn, Message: '{}' }))),
    ];
    // THEN each is denied (SNS's denial is AccessDenied in moto, AuthorizationError in AWS)
    expect(denied).toEqual([
      'AccessDeniedException',
      'AccessDeniedException',
      'AccessDeniedException',
      'AccessDenied',
      'AccessDenied',
    ]);
    // AND IAM's logic agrees, and it reads no stream either
    const policies = iam.identityPolicies(launcherRole);
    expect(isAllowed(policies, 'sns:Publish', resultsTopicArn)).toBe(false);
    expect(isAllowed(policies, 'dynamodb:GetRecords', `${table.arn}/stream/${STREAM_LABEL}`)).toBe(false);
    // AND a transaction is authorised item by item: one Delete among allowed items denies it all
    const transaction = await outcome(() =>
      dynamodb.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: table.name, Item: { ...recordKey('t4'), state: { S: 'queued' } } } },
            { Delete: { TableName: table.name, Key: recordKey('t2') } },
          ],
        }),
      ),
    );
    expect(transaction).toBe('AccessDeniedException');
    dynamodb.destroy();
    sns.destroy();
  });

  it('the notifier publishes results, and may not touch the table, its index or the trigger topic', async () => {
    // GIVEN clients as the notifier's session
    const dynamodb = new DynamoDBClient(roleClientConfig(moto, notifierCreds));
    const sns = new SNSClient(roleClientConfig(moto, notifierCreds));
    // WHEN it publishes a result, a trigger, and reads, writes or scans the table
    const calls = {
      result: await outcome(() =>
        sns.send(new PublishCommand({ TopicArn: resultsTopicArn, Message: '{"state":"succeeded"}' })),
      ),
      trigger: await outcome(() =>
        sns.send(new PublishCommand({ TopicArn: triggerTopicArn, Message: '{}' })),
      ),
      get: await outcome(() =>
        dynamodb.send(new GetItemCommand({ TableName: table.name, Key: recordKey('t1') })),
      ),
      put: await outcome(() =>
        dynamodb.send(
          new PutItemCommand({
            TableName: table.name,
            Item: { ...recordKey('t9'), state: { S: 'received' } },
          }),
        ),
      ),
      scan: await outcome(() => dynamodb.send(new ScanCommand({ TableName: table.name }))),
    };
    // THEN only the result is published (SNS's denial is AccessDenied in moto)
    expect(calls).toEqual({
      result: 'ok',
      trigger: 'AccessDenied',
      get: 'AccessDeniedException',
      put: 'AccessDeniedException',
      scan: 'AccessDeniedException',
    });
    dynamodb.destroy();
    sns.destroy();
  });

  it("the notifier reads the deploy table's stream and no other (iam-eval: the stream's ARN exists only once it is created)", () => {
    // GIVEN the notifier's policies as deployed
    const policies = iam.identityPolicies(notifierRole);
    const stream = `${table.arn}/stream/${STREAM_LABEL}`;
    const other = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/other/stream/${STREAM_LABEL}`;
    // WHEN / THEN it may read its stream's shards and records, not another table's
    for (const action of ['dynamodb:DescribeStream', 'dynamodb:GetShardIterator', 'dynamodb:GetRecords']) {
      expect(isAllowed(policies, action, stream), action).toBe(true);
      expect(isAllowed(policies, action, other), action).toBe(false);
    }
    // AND nothing of the table itself
    expect(
      isAllowed(policies, 'dynamodb:GetItem', table.arn, { 'dynamodb:LeadingKeys': ['deploy#t1'] }),
    ).toBe(false);
    expect(isAllowed(policies, 'dynamodb:UpdateItem', table.arn)).toBe(false);
  });

  it('in moto, the worker may UpdateItem the table and nothing else of it', async () => {
    // GIVEN a client as the worker's session
    const dynamodb = new DynamoDBClient(roleClientConfig(moto, workerCreds));
    // WHEN it reports its phase, then reads, puts and scans
    const report = await outcome(() =>
      dynamodb.send(
        new UpdateItemCommand({
          TableName: table.name,
          Key: recordKey('t1'),
          UpdateExpression: 'SET phase = :p',
          ExpressionAttributeValues: { ':p': { S: 'command' } },
        }),
      ),
    );
    const others = [
      await outcome(() => dynamodb.send(new GetItemCommand({ TableName: table.name, Key: recordKey('t1') }))),
      await outcome(() =>
        dynamodb.send(new PutItemCommand({ TableName: table.name, Item: { ...recordKey('t9') } })),
      ),
      await outcome(() => dynamodb.send(new ScanCommand({ TableName: table.name }))),
    ];
    // THEN only the report is allowed
    expect(report).toBe('ok');
    expect(others).toEqual(['AccessDeniedException', 'AccessDeniedException', 'AccessDeniedException']);
    dynamodb.destroy();
  });

  it("the worker's UpdateItem may write only its report attributes of a deploy record, and read nothing back (iam-eval: moto ignores these conditions)", () => {
    // GIVEN the worker role's policies as deployed
    const policies = iam.identityPolicies(workerRole);
    const update = (key: string, attributes: string[], returnValues?: string) =>
      isAllowed(policies, 'dynamodb:UpdateItem', table.arn, updateContext(key, attributes, returnValues));
    // WHEN / THEN its report is allowed, with every worker attribute
    expect(update('deploy#t1', [PK, 'phase'])).toBe(true);
    expect(update('deploy#t1', [PK, 'deployedCommit', 'reportedExitCode', 'reportedReason'], 'NONE')).toBe(
      true,
    );
    // AND writing the record's state (or any other attribute) is denied
    expect(update('deploy#t1', [PK, 'state'])).toBe(false);
    expect(update('deploy#t1', [PK, 'phase', 'exitCode'])).toBe(false);
    // AND so is touching a lane, or reading the record back
    expect(update('lane#demo', [PK, 'phase'])).toBe(false);
    expect(update('deploy#t1', [PK, 'phase'], 'ALL_NEW')).toBe(false);
  });

  it("the worker's own report (DeployTableReport) passes: moto allows it, and iam-eval allows the attributes it names", async () => {
    // GIVEN the worker's report writer with a client as the worker's session, its requests recorded
    const dynamodb = new DynamoDBClient(roleClientConfig(moto, workerCreds));
    const sent: UpdateItemCommandInput[] = [];
    dynamodb.middlewareStack.add(
      (next) => async (args) => {
        sent.push(args.input as UpdateItemCommandInput);
        return next(args);
      },
      { step: 'initialize' },
    );
    const report = new DeployTableReport({ tableName: table.name, triggerId: 't1', dynamodb });
    // WHEN it reports every worker attribute
    await report.write({
      phase: 'command',
      deployedCommit: COMMIT,
      reportedExitCode: 0,
      reportedReason: 'deployed',
    });
    // THEN moto accepted it (actions and resources)
    const admin = new DynamoDBClient(moto.clientConfig);
    const item = await admin.send(new GetItemCommand({ TableName: table.name, Key: recordKey('t1') }));
    admin.destroy();
    expect(item.Item?.deployedCommit?.S).toBe(COMMIT);
    // AND IAM's logic allows the request as DynamoDB sees it: the attributes it names (key and
    // expressions), its partition key, its ReturnValues
    const [input] = sent;
    if (input === undefined) throw new Error('no request was sent');
    const attributes = [
      ...new Set([...Object.keys(input.Key ?? {}), ...Object.values(input.ExpressionAttributeNames ?? {})]),
    ];
    expect(attributes.sort()).toEqual([PK, ...WORKER_ATTRIBUTES].sort());
    const context = updateContext(input.Key?.[PK]?.S ?? '', attributes, input.ReturnValues);
    expect(isAllowed(iam.identityPolicies(workerRole), 'dynamodb:UpdateItem', table.arn, context)).toBe(true);
    report.destroy();
    dynamodb.destroy();
  });

  it('moto itself does not evaluate dynamodb:Attributes: the state write iam-eval denies succeeds there', async () => {
    // GIVEN a client as the worker's session (this is why the test above uses iam-eval)
    const dynamodb = new DynamoDBClient(roleClientConfig(moto, workerCreds));
    // WHEN it writes `state`
    const result = await outcome(() =>
      dynamodb.send(
        new UpdateItemCommand({
          TableName: table.name,
          Key: recordKey('t1'),
          UpdateExpression: 'SET #s = :s',
          ExpressionAttributeNames: { '#s': 'state' },
          ExpressionAttributeValues: { ':s': { S: 'succeeded' } },
        }),
      ),
    );
    // THEN moto allows it (AWS would not: see the iam-eval test)
    expect(result).toBe('ok');
    dynamodb.destroy();
  });

  it('the demo deploy role can neither read nor write the table, nor publish a result', async () => {
    // GIVEN clients with the demo project's credentials
    const dynamodb = new DynamoDBClient(roleClientConfig(moto, demoCreds));
    const sns = new SNSClient(roleClientConfig(moto, demoCreds));
    // WHEN it reads its record, writes its state, and publishes a result
    const results = [
      await outcome(() => dynamodb.send(new GetItemCommand({ TableName: table.name, Key: recordKey('t1') }))),
      await outcome(() =>
        dynamodb.send(
          new UpdateItemCommand({
            TableName: table.name,
            Key: recordKey('t1'),
            UpdateExpression: 'SET #s = :s',
            ExpressionAttributeNames: { '#s': 'state' },
            ExpressionAttributeValues: { ':s': { S: 'succeeded' } },
          }),
        ),
      ),
      await outcome(() =>
        sns.send(new PublishCommand({ TopicArn: resultsTopicArn, Message: '{"state":"succeeded"}' })),
      ),
    ];
    // THEN all are denied (SNS's denial is AccessDenied in moto, AuthorizationError in AWS)
    expect(results).toEqual(['AccessDeniedException', 'AccessDeniedException', 'AccessDenied']);
    // AND IAM's logic agrees, whatever the condition context
    const policies = iam.identityPolicies(demoRole);
    expect(
      isAllowed(policies, 'dynamodb:GetItem', table.arn, { 'dynamodb:LeadingKeys': ['deploy#t1'] }),
    ).toBe(false);
    expect(isAllowed(policies, 'sns:Publish', resultsTopicArn)).toBe(false);
    dynamodb.destroy();
    sns.destroy();
  });

  it("grantWatch's role reads a record by key and the worker's log, and nothing else", async () => {
    // GIVEN clients as the watcher's session (grantWatch with logs, as the GitHub Actions role)
    const dynamodb = new DynamoDBClient(roleClientConfig(moto, watcherCreds));
    const logs = new CloudWatchLogsClient(roleClientConfig(moto, watcherCreds));
    // WHEN it reads its deploy record and the build's log
    const record = await dynamodb.send(new GetItemCommand({ TableName: table.name, Key: recordKey('t1') }));
    const events = await logs.send(
      new GetLogEventsCommand({ logGroupName: workerLogGroup, logStreamName: BUILD_STREAM }),
    );
    const filtered = await outcome(() =>
      logs.send(new FilterLogEventsCommand({ logGroupName: workerLogGroup })),
    );
    // THEN it gets them
    expect(record.Item?.project?.S).toBe('demo');
    expect(events.events?.map((e) => e.message)).toEqual(['deploying']);
    expect(filtered).toBe('ok');
    // WHEN it scans, queries, writes, or reads the launcher's log
    const denied = [
      await outcome(() => dynamodb.send(new ScanCommand({ TableName: table.name }))),
      await outcome(() =>
        dynamodb.send(
          new QueryCommand({
            TableName: table.name,
            IndexName: BY_PROJECT_INDEX,
            KeyConditionExpression: 'project = :p',
            ExpressionAttributeValues: { ':p': { S: 'demo' } },
          }),
        ),
      ),
      await outcome(() =>
        dynamodb.send(new PutItemCommand({ TableName: table.name, Item: { ...recordKey('t9') } })),
      ),
      await outcome(() =>
        logs.send(new GetLogEventsCommand({ logGroupName: launcherLogGroup, logStreamName: BUILD_STREAM })),
      ),
    ];
    // THEN each is denied
    expect(denied).toEqual([
      'AccessDeniedException',
      'AccessDeniedException',
      'AccessDeniedException',
      'AccessDeniedException',
    ]);
    dynamodb.destroy();
    logs.destroy();
  });

  it("grantWatch's GetItem reaches deploy# keys only, not a lane (iam-eval: moto ignores dynamodb:LeadingKeys)", () => {
    // GIVEN the watcher's policies as deployed
    const policies = iam.identityPolicies(watcherRole);
    const get = (key: string) =>
      isAllowed(policies, 'dynamodb:GetItem', table.arn, { 'dynamodb:LeadingKeys': [key] });
    // WHEN / THEN
    expect(get('deploy#t1')).toBe(true);
    expect(get('lane#demo')).toBe(false);
    expect(isAllowed(policies, 'dynamodb:Scan', table.arn)).toBe(false);
    expect(isAllowed(policies, 'dynamodb:Query', `${table.arn}/index/${BY_PROJECT_INDEX}`)).toBe(false);
  });
});
