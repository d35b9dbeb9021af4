import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Duration, RemovalPolicy, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseTopicScopes } from '../../src/core/topic-scope.js';
import {
  CDK_CLI_VERSION,
  IwompPipeline,
  type IwompPipelineProps,
  PipelinePropsError,
  WorkerImage,
} from '../../src/infra/index.js';
import { actionsOf, allStatements, roleStatements, type Statement, testApp, testStack } from './helpers.js';

const DEPLOY_ROLES = {
  'Fn::Join': [
    '',
    ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':role/iwomp-deploy/*'],
  ],
};

interface Built {
  stack: Stack;
  pipeline: IwompPipeline;
  template: Template;
  trigger: iam.Role;
  deployPolicy: iam.ManagedPolicy;
  deployRole: iam.Role;
}

function build(
  props: IwompPipelineProps = {},
  extra?: (pipeline: IwompPipeline, stack: Stack) => void,
): Built {
  const stack = testStack();
  const deployPolicy = new iam.ManagedPolicy(stack, 'DeployPolicy', {
    statements: [new iam.PolicyStatement({ actions: ['cloudformation:DescribeStacks'], resources: ['*'] })],
  });
  const pipeline = new IwompPipeline(stack, 'Pipeline', props);
  const deployRole = pipeline.addDeployRole('WebDeployRole', {
    project: 'web',
    managedPolicies: [deployPolicy],
  }).role;
  const trigger = new iam.Role(stack, 'Ci', { assumedBy: new iam.AccountRootPrincipal() });
  pipeline.grantTrigger(trigger);
  extra?.(pipeline, stack);
  return { stack, pipeline, template: Template.fromStack(stack), trigger, deployPolicy, deployRole };
}

/** The registry statements, as the launcher and the worker must both hold them. */
function registryStatements(stack: Stack, configPath: string): Statement[] {
  const parameterArn = stack.resolve(
    stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${configPath}/*` }),
  );
  return [
    { Action: 'ssm:GetParameter', Effect: 'Allow', Resource: parameterArn },
    {
      Action: 'kms:Decrypt',
      Effect: 'Allow',
      Resource: stack.resolve(stack.formatArn({ service: 'kms', resource: 'key', resourceName: '*' })),
      Condition: {
        StringEquals: { 'kms:ViaService': stack.resolve(`ssm.${stack.region}.${stack.urlSuffix}`) },
        StringLike: { 'kms:EncryptionContext:PARAMETER_ARN': parameterArn },
      },
    },
  ];
}

function logGroupArn({ stack, pipeline }: Built, id: 'LauncherLogs' | 'WorkerLogs'): unknown {
  return stack.resolve((pipeline.node.findChild(id) as logs.LogGroup).logGroupArn);
}

/** The worker's report: UpdateItem of a deploy record's worker attributes, nothing read back. */
function workerReportStatement({ stack, pipeline }: Built): Statement {
  return {
    Action: 'dynamodb:UpdateItem',
    Condition: {
      'ForAllValues:StringEquals': {
        'dynamodb:Attributes': ['pk', 'phase', 'deployedCommit', 'reportedExitCode', 'reportedReason'],
      },
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['deploy#*'] },
      StringEqualsIfExists: { 'dynamodb:ReturnValues': 'NONE' },
    },
    Effect: 'Allow',
    Resource: stack.resolve(pipeline.deployTable.tableArn),
  };
}

/** What grantWatch gives: GetItem of deploy records by key, and with logs the worker's log group. */
function watchStatements(b: Built, logs: boolean): Statement[] {
  const { stack, pipeline } = b;
  return [
    {
      Action: 'dynamodb:GetItem',
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['deploy#*'] } },
      Effect: 'Allow',
      Resource: stack.resolve(pipeline.deployTable.tableArn),
    },
    ...(logs
      ? [
          {
            Action: ['logs:GetLogEvents', 'logs:FilterLogEvents'],
            Effect: 'Allow',
            Resource: workerLogsRead(b),
          },
        ]
      : []),
  ];
}

/** The worker log group as aws-cdk-lib's LogGroup.grant names it: the group, and its streams (`:*`). */
function workerLogsRead(b: Built): unknown[] {
  const { stack, pipeline } = b;
  const group = {
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        ':logs:',
        { Ref: 'AWS::Region' },
        ':',
        { Ref: 'AWS::AccountId' },
        ':log-group:',
        stack.resolve(pipeline.workerLogGroup.logGroupName),
      ],
    ],
  };
  return [group, logGroupArn(b, 'WorkerLogs')];
}

function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as never);
}

describe('IwompPipeline with the default (managed) worker image', () => {
  let b: Built;
  beforeAll(() => {
    // GIVEN the defaults, WHEN synthesized
    b = build();
  });

  it('gives the launcher exactly StartBuild and BatchGetBuilds on the worker, registry reads, its logs, the failure queue and the deploy table: not Publish on the results topic (the notifier has it)', () => {
    const { stack, pipeline, template } = b;
    expect(roleStatements(template, stack, pipeline.launcher.role as iam.IRole)).toEqual([
      {
        Action: ['codebuild:StartBuild', 'codebuild:BatchGetBuilds'],
        Effect: 'Allow',
        Resource: stack.resolve(pipeline.workerProject.projectArn),
      },
      ...registryStatements(stack, 'iwomp-in-aws'),
      {
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Effect: 'Allow',
        Resource: logGroupArn(b, 'LauncherLogs'),
      },
      { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: stack.resolve(pipeline.failureQueue.queueArn) },
      {
        // TransactWriteItems is authorised per item as PutItem / UpdateItem / ConditionCheckItem.
        Action: [
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:ConditionCheckItem',
        ],
        Effect: 'Allow',
        Resource: stack.resolve(pipeline.deployTable.tableArn),
      },
      {
        Action: 'dynamodb:Query',
        Effect: 'Allow',
        Resource: { 'Fn::Join': ['', [stack.resolve(pipeline.deployTable.tableArn), '/index/activeLanes']] },
      },
    ]);
  });

  it('attaches no managed policy to the launcher (no AWSLambdaBasicExecutionRole)', () => {
    const { stack, pipeline, template } = b;
    const roleId = stack.resolve((pipeline.launcher.role as iam.IRole).roleName).Ref;
    expect(template.toJSON().Resources[roleId].Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('gives the worker exactly the registry reads, its logs, its bundle, and deploy roles to assume: no deploy rights', () => {
    const { stack, pipeline, template, deployPolicy, deployRole } = b;
    const statements = roleStatements(template, stack, pipeline.workerRole);
    const source = template.toJSON().Resources[logicalId(stack, pipeline.workerProject)].Properties.Source;
    const [bucket, objectKey] = source.Location['Fn::Join'][1];
    expect(statements).toEqual([
      ...registryStatements(stack, 'iwomp-in-aws'),
      {
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Effect: 'Allow',
        Resource: logGroupArn(b, 'WorkerLogs'),
      },
      { Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'], Effect: 'Allow', Resource: DEPLOY_ROLES },
      {
        Action: 'sts:TagSession',
        Condition: {
          'ForAllValues:StringEquals': { 'aws:TagKeys': ['iwomp:project', 'iwomp:branch', 'iwomp:commit'] },
        },
        Effect: 'Allow',
        Resource: DEPLOY_ROLES,
      },
      workerReportStatement(b),
      {
        Action: ['s3:GetObject', 's3:GetObjectVersion'],
        Effect: 'Allow',
        Resource: {
          'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::', bucket, `/${objectKey.slice(1)}`]],
        },
      },
      {
        Action: ['s3:GetBucketAcl', 's3:GetBucketLocation'],
        Effect: 'Allow',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::', bucket]] },
      },
    ]);
    const workerRole = template.toJSON().Resources[logicalId(stack, pipeline.workerRole)].Properties;
    expect(workerRole.AssumeRolePolicyDocument.Statement).toEqual([
      expect.objectContaining({ Principal: { Service: 'codebuild.amazonaws.com' } }),
    ]);
    expect(workerRole.ManagedPolicyArns).toBeUndefined();
    // The user's deploy rights are on the project's deploy role, on the deploy path.
    const role = template.toJSON().Resources[logicalId(stack, deployRole)].Properties;
    expect(role.ManagedPolicyArns).toEqual([stack.resolve(deployPolicy.managedPolicyArn)]);
    expect(role.Path).toBe('/iwomp-deploy/');
  });

  it('grantTrigger gives exactly sns:Publish on the topic', () => {
    const { stack, pipeline, template, trigger } = b;
    expect(roleStatements(template, stack, trigger)).toEqual([
      { Action: 'sns:Publish', Effect: 'Allow', Resource: stack.resolve(pipeline.topic.topicArn) },
    ]);
  });

  it('allows no wildcard action anywhere', () => {
    const statements = allStatements(b.template);
    const allowed = statements.filter((s) => s.Effect === 'Allow');
    expect(allowed.length).toBeGreaterThan(10);
    // The only wildcard is in Deny statements (enforceSSL on the queue), which only take rights away.
    const wildcards = allowed.flatMap(actionsOf).filter((action) => action.includes('*'));
    expect(wildcards).toEqual([]);
  });

  it('denies publishing to the topic without TLS', () => {
    const { stack, pipeline, template } = b;
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [stack.resolve(pipeline.topic.topicArn)],
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Principal: '*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      }),
    });
    const topic = template.toJSON().Resources[logicalId(stack, pipeline.topic)].Properties;
    expect(topic.DisplayName).toBe('iwomp-in-aws jobs');
    expect(JSON.stringify(topic.KmsMasterKeyId)).toMatch(/:alias\/aws\/sns"/);
  });

  it('runs the launcher on the newest Node.js runtime aws-cdk-lib offers, with the seed environment', () => {
    const { stack, pipeline, template } = b;
    const nodeVersions = lambda.Runtime.ALL.map((r) => /^nodejs(\d+)\.x$/.exec(r.name)?.[1])
      .filter((v): v is string => v !== undefined)
      .map(Number);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: `nodejs${Math.max(...nodeVersions)}.x`,
      Handler: 'index.handler',
      Environment: {
        Variables: {
          CONFIGPATH: 'iwomp-in-aws',
          WORKER_PROJECT_NAME: stack.resolve(pipeline.workerProject.projectName),
        },
      },
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^PipelineLauncherLogs') } },
    });
  });

  it('retries a failed trigger twice within an hour, then sends it to the failure queue', () => {
    const { stack, pipeline, template } = b;
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: stack.resolve(pipeline.launcher.functionName),
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 3600,
      DestinationConfig: { OnFailure: { Destination: stack.resolve(pipeline.failureQueue.queueArn) } },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      TopicArn: stack.resolve(pipeline.topic.topicArn),
      Endpoint: stack.resolve(pipeline.launcher.functionArn),
      RedrivePolicy: { deadLetterTargetArn: stack.resolve(pipeline.failureQueue.queueArn) },
    });
  });

  it('keeps failed triggers 14 days in an encrypted queue', () => {
    b.template.hasResourceProperties('AWS::SQS::Queue', {
      MessageRetentionPeriod: 14 * 24 * 3600,
      SqsManagedSseEnabled: true,
    });
  });

  it('gives every log group (worker, launcher, notifier) a retention', () => {
    const groups = Object.values(b.template.findResources('AWS::Logs::LogGroup'));
    expect(groups.map((g) => g.Properties.RetentionInDays)).toEqual([90, 90, 90]);
  });

  it('runs the bundled worker from its S3 asset on the curated image, with CONFIGPATH, the CDK CLI and the deploy command as codebuild-user', () => {
    const { stack, pipeline, template } = b;
    template.hasResourceProperties('AWS::CodeBuild::Project', {
      Source: { Type: 'S3', Location: Match.anyValue() },
      Environment: {
        Image: 'aws/codebuild/standard:7.0',
        ComputeType: 'BUILD_GENERAL1_SMALL',
        Type: 'LINUX_CONTAINER',
        ImagePullCredentialsType: 'CODEBUILD',
        PrivilegedMode: false,
        EnvironmentVariables: [
          { Name: 'CONFIGPATH', Type: 'PLAINTEXT', Value: 'iwomp-in-aws' },
          {
            Name: 'IWOMP_DEPLOY_TABLE',
            Type: 'PLAINTEXT',
            Value: stack.resolve(pipeline.deployTable.tableName),
          },
          { Name: 'IWOMP_RUN_AS', Type: 'PLAINTEXT', Value: 'codebuild-user' },
        ],
      },
      ServiceRole: stack.resolve(pipeline.workerRole.roleArn),
      TimeoutInMinutes: 60,
      LogsConfig: {
        CloudWatchLogs: { Status: 'ENABLED', GroupName: { Ref: Match.stringLikeRegexp('WorkerLogs') } },
      },
    });
    const project = template.toJSON().Resources[logicalId(stack, pipeline.workerProject)];
    expect(JSON.parse(project.Properties.Source.BuildSpec)).toEqual({
      version: '0.2',
      phases: {
        install: {
          'runtime-versions': { nodejs: '22' },
          commands: [`npm install --global --no-fund --no-audit aws-cdk@${CDK_CLI_VERSION}`],
        },
        // Bundling is skipped in these tests, so there is no bundle to check (see the emulation test).
        build: { commands: ['node worker.js'] },
      },
    });
    template.resourceCountIs('AWS::ECR::Repository', 0);
  });
});

describe('IwompPipeline with the ECR worker image', () => {
  let b: Built;
  beforeAll(() => {
    b = build({ workerImage: WorkerImage.ecrRepository(), configPath: '/team/iwomp/' });
  });

  it('creates the repository iwomp-in-aws and runs iwomp-worker from its image', () => {
    const { stack, pipeline, template } = b;
    template.hasResourceProperties('AWS::ECR::Repository', {
      RepositoryName: 'iwomp-in-aws',
      ImageScanningConfiguration: { ScanOnPush: true },
    });
    const project = template.toJSON().Resources[logicalId(stack, pipeline.workerProject)];
    expect(project.Properties.Environment.ImagePullCredentialsType).toBe('SERVICE_ROLE');
    expect(JSON.stringify(project.Properties.Environment.Image)).toContain(
      JSON.stringify(stack.resolve(pipeline.repository?.repositoryName)),
    );
    expect(project.Properties.Source.Type).toBe('NO_SOURCE');
    expect(JSON.parse(project.Properties.Source.BuildSpec).phases).toEqual({
      build: { commands: ['iwomp-worker'] },
    });
  });

  it('gives the worker exactly the registry reads under the normalized configPath, its logs, deploy roles and the image pull', () => {
    const { stack, pipeline, template } = b;
    const statements = roleStatements(template, stack, pipeline.workerRole);
    expect(statements).toEqual([
      ...registryStatements(stack, 'team/iwomp'),
      {
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Effect: 'Allow',
        Resource: logGroupArn(b, 'WorkerLogs'),
      },
      { Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'], Effect: 'Allow', Resource: DEPLOY_ROLES },
      {
        Action: 'sts:TagSession',
        Condition: {
          'ForAllValues:StringEquals': { 'aws:TagKeys': ['iwomp:project', 'iwomp:branch', 'iwomp:commit'] },
        },
        Effect: 'Allow',
        Resource: DEPLOY_ROLES,
      },
      workerReportStatement(b),
      { Action: 'ecr:GetAuthorizationToken', Effect: 'Allow', Resource: '*' },
      {
        Action: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
        Effect: 'Allow',
        Resource: stack.resolve(pipeline.repository?.repositoryArn),
      },
    ]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ CONFIGPATH: 'team/iwomp' }) },
    });
  });
});

describe('IwompPipeline with a Lambda build image', () => {
  it('uses Lambda compute, no timeout and no runtime-versions', () => {
    const { stack, pipeline, template } = build({
      workerImage: WorkerImage.managed({
        buildImage: codebuild.LinuxLambdaBuildImage.AMAZON_LINUX_2023_NODE_22,
      }),
      logRetention: logs.RetentionDays.ONE_WEEK,
    });
    const project = template.toJSON().Resources[logicalId(stack, pipeline.workerProject)];
    expect(project.Properties.Environment).toMatchObject({
      ComputeType: 'BUILD_LAMBDA_1GB',
      Type: 'LINUX_LAMBDA_CONTAINER',
    });
    expect(project.Properties.TimeoutInMinutes).toBeUndefined();
    expect(JSON.parse(project.Properties.Source.BuildSpec).phases).toEqual({
      build: { commands: ['node worker.js'] },
    });
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(groups.map((g) => g.Properties.RetentionInDays)).toEqual([7, 7, 7]);
  });
});

describe('IwompPipeline.addGithubActionsRole', () => {
  it('trusts only the listed repositories and branches through a new OIDC provider, and may only publish and watch', () => {
    let role: iam.Role | undefined;
    const built = build({}, (p) => {
      role = p.addGithubActionsRole('Gha', {
        repositories: ['acme/app', 'acme/infra'],
        branches: ['main', 'prod'],
      });
    });
    const { stack, pipeline, template } = built;
    template.hasResourceProperties('AWS::IAM::OIDCProvider', {
      Url: 'https://token.actions.githubusercontent.com',
      ClientIdList: ['sts.amazonaws.com'],
    });
    const roleJson = template.toJSON().Resources[stack.resolve(role?.roleName).Ref];
    expect(roleJson.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: 'sts:AssumeRoleWithWebIdentity',
        Effect: 'Allow',
        Principal: { Federated: { Ref: expect.stringMatching(/GhaOidcProvider/) } },
        Condition: {
          StringEquals: {
            'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
            'token.actions.githubusercontent.com:sub': [
              'repo:acme/app:ref:refs/heads/main',
              'repo:acme/app:ref:refs/heads/prod',
              'repo:acme/infra:ref:refs/heads/main',
              'repo:acme/infra:ref:refs/heads/prod',
            ],
          },
        },
      },
    ]);
    // CI publishes, then follows its deploy with `iwomp trigger --wait --logs` (grantWatch, logs on).
    expect(roleStatements(template, stack, role as iam.Role)).toEqual([
      { Action: 'sns:Publish', Effect: 'Allow', Resource: stack.resolve(pipeline.topic.topicArn) },
      ...watchStatements(built, true),
      // The CLI reads DeployTableName and WorkerLogGroupName from the stack's outputs.
      { Action: 'cloudformation:DescribeStacks', Effect: 'Allow', Resource: { Ref: 'AWS::StackId' } },
    ]);
  });

  it('uses an existing provider when given its ARN', () => {
    const arn = 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com';
    let role: iam.Role | undefined;
    const { stack, template } = build({}, (p) => {
      role = p.addGithubActionsRole('Gha', { repositories: ['acme/app'], oidcProviderArn: arn });
    });
    template.resourceCountIs('AWS::IAM::OIDCProvider', 0);
    const roleJson = template.toJSON().Resources[stack.resolve(role?.roleName).Ref];
    expect(roleJson.Properties.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Federated: arn });
    expect(roleJson.Properties.AssumeRolePolicyDocument.Statement[0].Condition.StringEquals).toMatchObject({
      'token.actions.githubusercontent.com:sub': ['repo:acme/app:ref:refs/heads/main'],
    });
  });
});

describe('IwompPipeline.addTriggerTopic (a CI identity limited to its own projects)', () => {
  const WEB_ARN = 'arn:aws:sns:eu-west-1:123456789012:web-trigger';
  let b: Built;
  let web: sns.Topic;
  let webCi: iam.Role;
  let gha: iam.Role;
  beforeAll(() => {
    // GIVEN a topic scoped to `web`, a CI role allowed to publish there, and a GitHub role using it
    b = build({}, (pipeline, stack) => {
      web = pipeline.addTriggerTopic('WebTrigger', { projects: ['web', 'web-docs'] });
      webCi = new iam.Role(stack, 'WebCi', { assumedBy: new iam.AccountRootPrincipal() });
      web.grantPublish(webCi);
      gha = pipeline.addGithubActionsRole('Gha', { repositories: ['acme/web'], topic: web });
    });
  });

  it('subscribes the launcher to the scoped topic, with the failure queue as its dead-letter queue', () => {
    const { stack, pipeline, template } = b;
    // The main topic, the results topic and the scoped one.
    template.resourceCountIs('AWS::SNS::Topic', 3);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      TopicArn: stack.resolve(web.topicArn),
      Endpoint: stack.resolve(pipeline.launcher.functionArn),
      RedrivePolicy: { deadLetterTargetArn: stack.resolve(pipeline.failureQueue.queueArn) },
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'sns.amazonaws.com',
      SourceArn: stack.resolve(web.topicArn),
    });
    const topic = template.toJSON().Resources[stack.getLogicalId(web.node.defaultChild as never)].Properties;
    expect(JSON.stringify(topic.KmsMasterKeyId)).toMatch(/:alias\/aws\/sns"/);
  });

  it('tells the launcher which projects the scoped topic may trigger, in the form the launcher reads', () => {
    const { stack, pipeline, template } = b;
    const fn = template.toJSON().Resources[logicalId(stack, pipeline.launcher)];
    const value = fn.Properties.Environment.Variables.IWOMP_TOPIC_PROJECTS;
    // CloudFormation joins the JSON around the topic's ARN: do the same with a made-up ARN.
    const webRef = JSON.stringify(stack.resolve(web.topicArn));
    const [separator, parts] = value['Fn::Join'] as [string, unknown[]];
    const text = parts
      .map((part) => (typeof part === 'string' ? part : JSON.stringify(part) === webRef ? WEB_ARN : '?'))
      .join(separator);
    expect(parseTopicScopes(text)).toEqual(new Map([[WEB_ARN, new Set(['web', 'web-docs'])]]));
  });

  it('gives publishers of the scoped topic exactly sns:Publish on it, not on the main topic', () => {
    const { stack, template } = b;
    const publish = [{ Action: 'sns:Publish', Effect: 'Allow', Resource: stack.resolve(web.topicArn) }];
    expect(roleStatements(template, stack, webCi)).toEqual(publish);
    // The GitHub Actions role also watches what it triggered.
    expect(roleStatements(template, stack, gha)).toEqual([
      ...publish,
      ...watchStatements(b, true),
      { Action: 'cloudformation:DescribeStacks', Effect: 'Allow', Resource: { Ref: 'AWS::StackId' } },
    ]);
  });

  it('leaves the launcher environment as it was without scoped topics', () => {
    const { stack, pipeline, template } = build();
    const fn = template.toJSON().Resources[logicalId(stack, pipeline.launcher)];
    expect(Object.keys(fn.Properties.Environment.Variables).sort()).toEqual([
      'CONFIGPATH',
      'IWOMP_DEPLOY_TABLE',
      'IWOMP_RETENTION_DAYS',
      'WORKER_PROJECT_NAME',
    ]);
  });

  it('refuses an empty project list, an invalid name, a duplicate, and a topic of another pipeline', () => {
    const stack = testStack();
    const pipeline = new IwompPipeline(stack, 'Pipeline');
    const other = new IwompPipeline(stack, 'Other', { configPath: 'other' });
    expect(() => pipeline.addTriggerTopic('A', { projects: [] })).toThrow(
      /^projects: list at least one project$/,
    );
    expect(() => pipeline.addTriggerTopic('B', { projects: ['../x'] })).toThrow(
      /^projects: invalid project name/,
    );
    expect(() => pipeline.addTriggerTopic('C', { projects: ['web', 'web'] })).toThrow(
      /^projects: web is listed twice$/,
    );
    expect(() =>
      pipeline.addGithubActionsRole('D', { repositories: ['acme/web'], topic: other.topic }),
    ).toThrow(/^topic: must be this pipeline's topic or one made by addTriggerTopic$/);
  });
});

describe('IwompPipeline props validation', () => {
  const construct = (props: IwompPipelineProps) => () => new IwompPipeline(testStack(testApp()), 'P', props);
  const github = (options: Parameters<IwompPipeline['addGithubActionsRole']>[1]) => () =>
    new IwompPipeline(testStack(testApp()), 'P').addGithubActionsRole('R', options);
  const lambdaImage = () =>
    WorkerImage.managed({ buildImage: codebuild.LinuxLambdaBuildImage.AMAZON_LINUX_2023_NODE_22 });

  it('refuses an invalid configPath', () => {
    expect(construct({ configPath: 'a/../b' })).toThrow(/^configPath: invalid config path "a\/..\/b"/);
    expect(construct({ configPath: 'a/../b' })).toThrow(PipelinePropsError);
  });
  it('refuses a topic display name over 100 characters', () => {
    expect(construct({ topicDisplayName: 'x'.repeat(101) })).toThrow(
      /topicDisplayName: must be 1 to 100 characters, got 101/,
    );
  });
  it('refuses an empty topic display name', () => {
    expect(construct({ topicDisplayName: '' })).toThrow(
      /topicDisplayName: must be 1 to 100 characters, got 0/,
    );
  });
  it('refuses Lambda compute on an EC2 image', () => {
    expect(construct({ computeType: codebuild.ComputeType.LAMBDA_2GB })).toThrow(
      /computeType: BUILD_LAMBDA_2GB needs a Lambda build image/,
    );
  });
  it('refuses EC2 compute on a Lambda image', () => {
    expect(construct({ workerImage: lambdaImage(), computeType: codebuild.ComputeType.SMALL })).toThrow(
      /computeType: a Lambda build image needs a Lambda compute type, got BUILD_GENERAL1_SMALL/,
    );
  });
  it('refuses Lambda compute with the ECR image', () => {
    expect(
      construct({ workerImage: WorkerImage.ecrRepository(), computeType: codebuild.ComputeType.LAMBDA_1GB }),
    ).toThrow(/computeType: BUILD_LAMBDA_1GB needs a Lambda build image/);
  });
  it('refuses a build timeout on Lambda compute', () => {
    expect(construct({ workerImage: lambdaImage(), buildTimeout: Duration.minutes(10) })).toThrow(
      /buildTimeout: Lambda compute stops every build at 15 minutes/,
    );
  });
  it('refuses a build timeout under 5 minutes', () => {
    expect(construct({ buildTimeout: Duration.minutes(4) })).toThrow(
      /buildTimeout: .*5 to 2160, got 4 minutes/,
    );
  });
  it('refuses a build timeout over 36 hours', () => {
    expect(construct({ buildTimeout: Duration.hours(37) })).toThrow(
      /buildTimeout: .*5 to 2160, got 1 day 13 hours/,
    );
  });
  it('refuses a build timeout that is not whole minutes', () => {
    expect(construct({ buildTimeout: Duration.seconds(330) })).toThrow(
      /buildTimeout: must be a whole number/,
    );
  });
  it('refuses nodeVersion on a Lambda image', () => {
    expect(() =>
      WorkerImage.managed({
        buildImage: codebuild.LinuxLambdaBuildImage.AMAZON_LINUX_2023_NODE_22,
        nodeVersion: '22',
      }),
    ).toThrow(/nodeVersion: Lambda build images have a single Node.js runtime/);
  });
  it('refuses a nodeVersion that is not a major version', () => {
    expect(() => WorkerImage.managed({ nodeVersion: 'latest' })).toThrow(
      /nodeVersion: expected a Node.js major/,
    );
  });
  it('refuses a Node.js older than the bundle target', () => {
    expect(() => WorkerImage.managed({ nodeVersion: '18' })).toThrow(
      /nodeVersion: .*Node.js 20 or later, got 18/,
    );
  });
  it('refuses an invalid image tag', () => {
    expect(() => WorkerImage.ecrRepository({ tag: 'a b' })).toThrow(/tag: not a valid image tag: "a b"/);
  });
  it('refuses a GitHub role without repositories', () => {
    expect(github({ repositories: [] })).toThrow(/repositories: list at least one repository/);
  });
  it('refuses a repository pattern', () => {
    expect(github({ repositories: ['acme/*'] })).toThrow(
      /repositories: expected owner\/name without wildcards/,
    );
  });
  it('refuses an empty branch list', () => {
    expect(github({ repositories: ['acme/app'], branches: [] })).toThrow(
      /branches: list at least one branch/,
    );
  });
  it('refuses a branch pattern', () => {
    expect(github({ repositories: ['acme/app'], branches: ['release/*'] })).toThrow(
      /branches: invalid branch name "release\/\*"/,
    );
  });
  it('refuses an OIDC provider ARN for another host', () => {
    expect(
      github({
        repositories: ['acme/app'],
        oidcProviderArn: 'arn:aws:iam::123456789012:oidc-provider/gitlab.com',
      }),
    ).toThrow(
      /oidcProviderArn: expected the ARN of an OIDC provider for token.actions.githubusercontent.com/,
    );
  });
});

describe('IwompPipeline.addDeployRole', () => {
  it("trusts only the worker's role, for its own project's source identity and the worker's session tags", () => {
    // GIVEN a pipeline with a deploy role for project web
    const { stack, pipeline, template, deployRole } = build();
    // WHEN its trust policy is read
    const trust =
      template.toJSON().Resources[logicalId(stack, deployRole)].Properties.AssumeRolePolicyDocument;
    // THEN the worker role may assume it only as web, set that source identity, and tag its session
    const worker = stack.resolve(pipeline.workerRole.roleArn);
    expect(trust.Statement).toEqual([
      {
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'sts:SourceIdentity': 'iwomp-web' } },
        Effect: 'Allow',
        Principal: { AWS: worker },
      },
      {
        Action: 'sts:SetSourceIdentity',
        Condition: { StringEquals: { 'sts:SourceIdentity': 'iwomp-web' } },
        Effect: 'Allow',
        Principal: { AWS: worker },
      },
      {
        Action: 'sts:TagSession',
        Condition: {
          'ForAllValues:StringEquals': { 'aws:TagKeys': ['iwomp:project', 'iwomp:branch', 'iwomp:commit'] },
        },
        Effect: 'Allow',
        Principal: { AWS: worker },
      },
    ]);
  });

  it('refuses a project name the registry would refuse', () => {
    // GIVEN / WHEN / THEN
    expect(() => build({}, (pipeline) => pipeline.addDeployRole('Bad', { project: '_default' }))).toThrow(
      /^project: invalid project name "_default"/,
    );
  });

  it('pins the CDK CLI of the managed image to the one this repository uses', () => {
    // GIVEN package.json's own CDK CLI
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8'));
    // THEN the deploy command finds the same version on the build's PATH
    expect(pkg.devDependencies['aws-cdk']).toBe(CDK_CLI_VERSION);
  });
});

describe('IwompPipeline deploy lifecycle: table, results topic, events', () => {
  let b: Built;
  let watcher: iam.Role;
  let logWatcher: iam.Role;
  let historian: iam.Role;
  beforeAll(() => {
    // GIVEN the defaults, a role given grantWatch, one given grantWatch with logs, one grantHistory
    b = build({}, (pipeline, stack) => {
      watcher = new iam.Role(stack, 'Watcher', { assumedBy: new iam.AccountRootPrincipal() });
      logWatcher = new iam.Role(stack, 'LogWatcher', { assumedBy: new iam.AccountRootPrincipal() });
      historian = new iam.Role(stack, 'Historian', { assumedBy: new iam.AccountRootPrincipal() });
      pipeline.grantWatch(watcher);
      pipeline.grantWatch(logWatcher, { logs: true });
      pipeline.grantHistory(historian);
    });
  });

  it('keeps deploy records in an on-demand, encrypted table with point-in-time recovery, a TTL, the byProject and activeLanes indexes, retained on delete', () => {
    const { stack, pipeline, template } = b;
    const table = template.toJSON().Resources[logicalId(stack, pipeline.deployTable)];
    expect(table.Properties).toEqual({
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'project', AttributeType: 'S' },
        { AttributeName: 'createdAt', AttributeType: 'S' },
        { AttributeName: 'active', AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      // SSEEnabled without a key: KMS with the AWS managed key alias/aws/dynamodb.
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      // The notifier's source: each write's state before and after.
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byProject',
          KeySchema: [
            { AttributeName: 'project', KeyType: 'HASH' },
            { AttributeName: 'createdAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
        // Sparse: only lanes with work carry `active`, so the reconcile reads those alone.
        {
          IndexName: 'activeLanes',
          KeySchema: [{ AttributeName: 'active', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
  });

  it('deletes the table with the stack when deployTableRemovalPolicy says so', () => {
    // GIVEN / WHEN
    const { stack, pipeline, template } = build({ deployTableRemovalPolicy: RemovalPolicy.DESTROY });
    // THEN
    expect(template.toJSON().Resources[logicalId(stack, pipeline.deployTable)].DeletionPolicy).toBe('Delete');
  });

  it('publishes results on a topic encrypted with alias/aws/sns that refuses publishing without TLS', () => {
    const { stack, pipeline, template } = b;
    const topic = template.toJSON().Resources[logicalId(stack, pipeline.resultsTopic)].Properties;
    expect(JSON.stringify(topic.KmsMasterKeyId)).toMatch(/:alias\/aws\/sns"/);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [stack.resolve(pipeline.resultsTopic.topicArn)],
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Principal: '*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      }),
    });
  });

  it('tells the launcher the table and the retention in days, and not the results topic', () => {
    const { stack, pipeline, template } = b;
    const variables =
      template.toJSON().Resources[logicalId(stack, pipeline.launcher)].Properties.Environment.Variables;
    expect(variables.IWOMP_DEPLOY_TABLE).toEqual(stack.resolve(pipeline.deployTable.tableName));
    expect(variables.IWOMP_RESULTS_TOPIC_ARN).toBeUndefined();
    expect(variables.IWOMP_RETENTION_DAYS).toBe('90');
  });

  it('runs the notifier like the launcher, with its own log group and the results topic as its only variable', () => {
    const { stack, pipeline, template } = b;
    const fn = template.toJSON().Resources[logicalId(stack, pipeline.notifier)].Properties;
    expect(fn).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 256,
      Timeout: 30,
      LoggingConfig: { LogGroup: stack.resolve(pipeline.notifierLogGroup.logGroupName) },
    });
    expect(fn.Environment.Variables).toEqual({
      IWOMP_RESULTS_TOPIC_ARN: stack.resolve(pipeline.resultsTopic.topicArn),
    });
    expect(fn.ReservedConcurrentExecutions).toBeUndefined();
  });

  it('gives the notifier exactly its logs, the stream reads, the failure queue and Publish on the results topic', () => {
    const { stack, pipeline, template } = b;
    expect(roleStatements(template, stack, pipeline.notifier.role as iam.IRole)).toEqual([
      {
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Effect: 'Allow',
        Resource: stack.resolve(pipeline.notifierLogGroup.logGroupArn),
      },
      {
        Action: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
        Effect: 'Allow',
        Resource: stack.resolve(pipeline.deployTable.tableStreamArn),
      },
      { Action: 'dynamodb:ListStreams', Effect: 'Allow', Resource: '*' },
      { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: stack.resolve(pipeline.failureQueue.queueArn) },
      { Action: 'sns:Publish', Effect: 'Allow', Resource: stack.resolve(pipeline.resultsTopic.topicArn) },
    ]);
    const roleId = stack.resolve((pipeline.notifier.role as iam.IRole).roleName).Ref;
    expect(template.toJSON().Resources[roleId].Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('feeds the notifier from the stream only with deploy records entering a final state, retried alone, then kept in the failure queue', () => {
    const { stack, pipeline, template } = b;
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'));
    expect(mappings).toHaveLength(1);
    const mapping = mappings[0]?.Properties;
    expect(mapping).toMatchObject({
      EventSourceArn: stack.resolve(pipeline.deployTable.tableStreamArn),
      FunctionName: stack.resolve(pipeline.notifier.functionName),
      StartingPosition: 'TRIM_HORIZON',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 86_400,
      DestinationConfig: { OnFailure: { Destination: stack.resolve(pipeline.failureQueue.queueArn) } },
    });
    const finals = ['rejected', 'succeeded', 'failed', 'superseded', 'cancelled'];
    const entering = (old: unknown) => ({
      dynamodb: {
        Keys: { pk: { S: [{ prefix: 'deploy#' }] } },
        NewImage: { state: { S: finals } },
        OldImage: { state: { S: old } },
      },
    });
    expect(mapping.FilterCriteria.Filters.map((f: { Pattern: string }) => JSON.parse(f.Pattern))).toEqual([
      entering([{ 'anything-but': finals }]),
      entering([{ exists: false }]),
    ]);
  });

  it('passes a retention given in days to the launcher', () => {
    // GIVEN a 30-day retention, WHEN synthesized
    const { stack, pipeline, template } = build({ retention: Duration.days(30) });
    // THEN
    const fn = template.toJSON().Resources[logicalId(stack, pipeline.launcher)];
    expect(fn.Properties.Environment.Variables.IWOMP_RETENTION_DAYS).toBe('30');
  });

  it("sends the worker project's CodeBuild Build State Change events, and only those, to the launcher", () => {
    const { stack, pipeline, template } = b;
    const rules = Object.values(template.findResources('AWS::Events::Rule')).filter(
      (r) => r.Properties.EventPattern !== undefined,
    );
    expect(rules).toHaveLength(1);
    // The documented pattern (EventBridge reference, "AWS CodeBuild events"), narrowed to the worker.
    expect(rules[0]?.Properties.EventPattern).toEqual({
      source: ['aws.codebuild'],
      'detail-type': ['CodeBuild Build State Change'],
      detail: { 'project-name': [stack.resolve(pipeline.workerProject.projectName)] },
    });
    expect(rules[0]?.Properties.Targets).toEqual([
      { Arn: stack.resolve(pipeline.launcher.functionArn), Id: 'Target0' },
    ]);
  });

  it('reconciles every minute by default, every reconcileInterval when given', () => {
    const schedules = (template: Template) =>
      Object.values(template.findResources('AWS::Events::Rule'))
        .filter((r) => r.Properties.ScheduleExpression !== undefined)
        .map((r) => [r.Properties.ScheduleExpression, r.Properties.Targets]);
    const { stack, pipeline, template } = b;
    const target = [{ Arn: stack.resolve(pipeline.launcher.functionArn), Id: 'Target0' }];
    expect(schedules(template)).toEqual([['rate(1 minute)', target]]);
    const five = build({ reconcileInterval: Duration.minutes(5) });
    expect(schedules(five.template).map(([expression]) => expression)).toEqual(['rate(5 minutes)']);
  });

  it('lets EventBridge invoke the launcher for exactly those two rules', () => {
    const { stack, pipeline, template } = b;
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission'))
      .map((p) => p.Properties)
      .filter((p) => p.Principal === 'events.amazonaws.com');
    const ruleArns = Object.keys(template.findResources('AWS::Events::Rule')).map((id) =>
      JSON.stringify({ 'Fn::GetAtt': [id, 'Arn'] }),
    );
    expect(ruleArns).toHaveLength(2);
    expect(permissions.map((p) => JSON.stringify(p.SourceArn)).sort()).toEqual(ruleArns.sort());
    for (const p of permissions) {
      expect(p.Action).toBe('lambda:InvokeFunction');
      expect(p.FunctionName).toEqual(stack.resolve(pipeline.launcher.functionArn));
    }
  });

  it('grantWatch gives exactly GetItem of deploy# keys; with logs, reading the worker log group too', () => {
    const { stack, template } = b;
    expect(roleStatements(template, stack, watcher)).toEqual(watchStatements(b, false));
    expect(roleStatements(template, stack, logWatcher)).toEqual(watchStatements(b, true));
  });

  it('grantHistory gives reads of the table and its index, and the worker log group', () => {
    const { stack, pipeline, template } = b;
    const tableArn = stack.resolve(pipeline.deployTable.tableArn);
    expect(roleStatements(template, stack, historian)).toEqual([
      {
        Action: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan'],
        Effect: 'Allow',
        Resource: [tableArn, { 'Fn::Join': ['', [tableArn, '/index/byProject']] }],
      },
      {
        Action: ['logs:GetLogEvents', 'logs:FilterLogEvents'],
        Effect: 'Allow',
        Resource: workerLogsRead(b),
      },
    ]);
  });

  it('lets only the notifier publish results: not the launcher, the worker, a trigger or a watcher', () => {
    const { stack, pipeline, template } = b;
    const results = JSON.stringify(stack.resolve(pipeline.resultsTopic.topicArn));
    const publishers = Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([, p]) => JSON.stringify(p.Properties.PolicyDocument).includes(results))
      .map(([, p]) => p.Properties.Roles);
    expect(publishers).toEqual([[stack.resolve((pipeline.notifier.role as iam.IRole).roleName)]]);
  });

  it('gives a deploy role nothing on the table or the results topic', () => {
    const { stack, pipeline, template, deployRole, deployPolicy } = b;
    const table = JSON.stringify(stack.resolve(pipeline.deployTable.tableArn));
    const results = JSON.stringify(stack.resolve(pipeline.resultsTopic.topicArn));
    const policy = template.toJSON().Resources[logicalId(stack, deployPolicy)].Properties.PolicyDocument;
    const text = JSON.stringify([roleStatements(template, stack, deployRole), policy]);
    expect(text).not.toContain(table);
    expect(text).not.toContain(results);
    expect(text).not.toMatch(/dynamodb:|sns:/);
  });

  it('refuses a retention or a reconcile interval that is not whole days or minutes, or under one', () => {
    const construct = (props: IwompPipelineProps) => () =>
      new IwompPipeline(testStack(testApp()), 'P', props);
    expect(construct({ retention: Duration.hours(36) })).toThrow(
      /^retention: must be a whole number of days, at least 1, got 1 day 12 hours$/,
    );
    expect(construct({ retention: Duration.days(0) })).toThrow(/^retention: .*at least 1, got 0 days$/);
    expect(construct({ reconcileInterval: Duration.seconds(30) })).toThrow(
      /^reconcileInterval: must be a whole number of minutes, at least 1, got 30 seconds$/,
    );
  });
});
