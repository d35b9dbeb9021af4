/**
 * The seed's app on CDK v2: `iwomp-policies` (what deployments may do), `iwomp` (the pipeline) and,
 * on request (`-c iwomp:demo=true`), `iwomp-projects` (the seed's demo project registered), tagged
 * `Application: iwomp-in-aws`.
 */
import { type App, CfnOutput, Stack, type StackProps, Tags, Validations } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { DEFAULT_CONFIG_PATH } from '../core/names.js';
import { parseProjectDocument, resolveProjectConfig } from '../core/project-config.js';
import { IwompDeployRole } from './deploy-role.js';
import { PipelinePropsError } from './errors.js';
import { IwompPipeline } from './iwomp-pipeline.js';
import { WorkerImage } from './worker-image.js';

/** The app's settings, from CDK context (`-c iwomp:<name>=…` or cdk.json). */
export interface IwompAppOptions {
  /** @default 'iwomp-in-aws' */
  readonly configPath?: string;
  /** `managed` (default), `lambda` (CodeBuild Lambda compute) or `ecr` (the seed's own image). */
  readonly workerImage?: 'managed' | 'lambda' | 'ecr';
  /** GitHub repositories (`owner/name`) given a trigger role through OIDC. @default - no role */
  readonly githubRepositories?: string[];
  /** Branches of those repositories. @default ['main'] */
  readonly githubBranches?: string[];
  /** The account's existing GitHub OIDC provider. @default - one is created */
  readonly githubOidcProviderArn?: string;
  /**
   * The only projects the GitHub Actions role may trigger: it publishes to a trigger topic
   * scoped to them (output `GithubActionsTopicArn`) instead of the main topic.
   * @default - every project, through the main topic
   */
  readonly githubProjects?: string[];
  /**
   * Registers the seed's demo project (a third party's repository, `jkpl/cdk-demo`) in the stack
   * `iwomp-projects`. Off unless asked for: `cdk deploy --all` should not make someone else's code
   * deployable in your account.
   * @default false
   */
  readonly demo?: boolean;
}

/** The demo project of the seed, registered as `/<configPath>/demo`. */
/** The seed's demo project's registry name. */
export const DEMO_PROJECT_NAME = 'demo';

export const DEMO_PROJECT = {
  gitUrl: 'https://github.com/jkpl/cdk-demo',
  command: './deploy.sh',
  branches: ['master'],
} as const;

/** Names of the CDK bootstrap roles (default qualifier) a CDK deployment assumes. */
export interface IwompPoliciesStackProps extends StackProps {
  /** The pipeline whose worker may assume the roles made here. */
  readonly pipeline: IwompPipeline;
}

/**
 * What deployments may do: one deploy role per project. The seed gave its worker CloudFormation
 * and SQS on everything "for demo purposes"; here the demo project's own role gets those rights,
 * and no other project (nor the pipeline) does.
 */
export class IwompPoliciesStack extends Stack {
  /** The demo project's deploy role (`deployRole` of `/<configPath>/demo`). */
  readonly demoDeployRole: iam.Role;

  constructor(scope: Construct, id: string, props: IwompPoliciesStackProps) {
    super(scope, id, { description: 'iwomp-in-aws: what each project may do when it deploys', ...props });
    const demo = new IwompDeployRole(this, 'DemoDeployRole', {
      workerRole: props.pipeline.workerRole,
      project: DEMO_PROJECT_NAME,
      description:
        "iwomp-in-aws deploy role of the demo project: the seed's demo rights (CloudFormation, SQS)",
    });
    this.demoDeployRole = demo.role;
    // A CDK v1 app with legacy synthesis deploys with the caller's own credentials: it needs
    // CloudFormation and the rights of what it creates (the seed's demo: an SQS queue).
    demo.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['cloudformation:*', 'sqs:*'], resources: ['*'] }),
    );
    Validations.of(demo.role).acknowledge({
      id: 'AwsSolutions-IAM5[Action::cloudformation:*]',
      reason:
        "The seed's demo rights, kept for parity, on the demo project's own role only. Scope them to your stacks.",
    });
    Validations.of(demo.role).acknowledge({
      id: 'AwsSolutions-IAM5[Action::sqs:*]',
      reason: "The seed's demo rights, kept for parity, on the demo project's own role only.",
    });
    Validations.of(demo.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: "The seed's demo rights, kept for parity, on the demo project's own role only.",
    });
  }
}

export interface IwompStackProps extends StackProps {
  readonly configPath: string;
  readonly workerImage: WorkerImage;
  readonly github?: {
    repositories: string[];
    branches?: string[];
    oidcProviderArn?: string;
    projects?: string[];
  };
}

/** The pipeline and its outputs. */
export class IwompStack extends Stack {
  readonly pipeline: IwompPipeline;

  constructor(scope: Construct, id: string, props: IwompStackProps) {
    super(scope, id, { description: 'iwomp-in-aws: trigger topic, launcher and worker', ...props });
    this.pipeline = new IwompPipeline(this, 'Pipeline', {
      configPath: props.configPath,
      workerImage: props.workerImage,
    });
    new CfnOutput(this, 'JobTopicArn', {
      description: 'Publish {"project","branch","commit"} here to deploy',
      value: this.pipeline.topic.topicArn,
    });
    new CfnOutput(this, 'FailureQueueUrl', {
      description: 'Triggers the launcher could not handle',
      value: this.pipeline.failureQueue.queueUrl,
    });
    new CfnOutput(this, 'WorkerProjectName', {
      description: 'CodeBuild project that runs deployments',
      value: this.pipeline.workerProject.projectName,
    });
    new CfnOutput(this, 'LauncherLogGroupName', {
      description: 'One line per trigger: accepted (with the build id), rejected (with the reason) or failed',
      value: this.pipeline.launcherLogGroup.logGroupName,
    });
    new CfnOutput(this, 'WorkerLogGroupName', {
      description: 'The output of every deployment, one log stream per build',
      value: this.pipeline.workerLogGroup.logGroupName,
    });
    new CfnOutput(this, 'DeployTableName', {
      description:
        'One record per trigger (deploy#<message id>) and one lane per project: iwomp trigger --wait, iwomp deploys',
      value: this.pipeline.deployTable.tableName,
    });
    new CfnOutput(this, 'ResultsTopicArn', {
      description:
        'Every deploy that ended, as one JSON message: subscribe email, AWS Chatbot or anything else',
      value: this.pipeline.resultsTopic.topicArn,
    });
    if (this.pipeline.repository) {
      new CfnOutput(this, 'WorkerEcrUri', {
        description: 'Push the worker image here',
        value: this.pipeline.repository.repositoryUri,
      });
    }
    if (props.github) this.addGithubActions(props.github);
  }

  private addGithubActions({ projects, ...options }: NonNullable<IwompStackProps['github']>): void {
    const topic =
      projects === undefined
        ? undefined
        : this.pipeline.addTriggerTopic('GithubActionsTriggerTopic', { projects });
    const role = this.pipeline.addGithubActionsRole('GithubActionsTriggerRole', {
      ...options,
      ...(topic === undefined ? {} : { topic }),
    });
    new CfnOutput(this, 'GithubActionsRoleArn', {
      description: 'role-to-assume for aws-actions/configure-aws-credentials',
      value: role.roleArn,
    });
    if (topic !== undefined) {
      new CfnOutput(this, 'GithubActionsTopicArn', {
        description: `The GitHub Actions role publishes here; it may trigger only ${projects?.join(', ')}`,
        value: topic.topicArn,
      });
    }
  }
}

export interface IwompProjectsStackProps extends StackProps {
  readonly configPath: string;
  /** The demo project's deploy role. */
  readonly demoDeployRole: iam.IRole;
}

/** The registry entries managed as code: the seed's demo project. */
export class IwompProjectsStack extends Stack {
  constructor(scope: Construct, id: string, props: IwompProjectsStackProps) {
    super(scope, id, { description: 'iwomp-in-aws: registered projects', ...props });
    const name = `/${props.configPath}/${DEMO_PROJECT_NAME}`;
    // Refuse at synth what the launcher would refuse at run time (the role ARN is known at deploy).
    resolveProjectConfig(undefined, parseProjectDocument(JSON.stringify(DEMO_PROJECT), name));
    new ssm.StringParameter(this, 'DemoProject', {
      parameterName: name,
      description: 'iwomp-in-aws project: demo',
      stringValue: this.toJsonString({ ...DEMO_PROJECT, deployRole: props.demoDeployRole.roleArn }),
    });
  }
}

/** Adds the stacks to `app`: `iwomp-projects` only with `demo`. */
export function addIwompStacks(
  app: App,
  options: IwompAppOptions = {},
): { policies: IwompPoliciesStack; iwomp: IwompStack; projects?: IwompProjectsStack } {
  if (options.githubProjects && !options.githubRepositories) {
    throw new PipelinePropsError('iwomp:githubProjects', 'needs iwomp:githubRepositories');
  }
  const configPath = options.configPath ?? DEFAULT_CONFIG_PATH;
  const iwomp = new IwompStack(app, 'iwomp', {
    configPath,
    workerImage: workerImageFor(options.workerImage ?? 'managed'),
    ...(options.githubRepositories
      ? {
          github: {
            repositories: options.githubRepositories,
            ...(options.githubBranches ? { branches: options.githubBranches } : {}),
            ...(options.githubOidcProviderArn ? { oidcProviderArn: options.githubOidcProviderArn } : {}),
            ...(options.githubProjects ? { projects: options.githubProjects } : {}),
          },
        }
      : {}),
  });
  // After the pipeline now: each deploy role trusts the worker's role.
  const policies = new IwompPoliciesStack(app, 'iwomp-policies', { pipeline: iwomp.pipeline });
  const projects =
    options.demo === true
      ? new IwompProjectsStack(app, 'iwomp-projects', {
          configPath: iwomp.pipeline.configPath,
          demoDeployRole: policies.demoDeployRole,
        })
      : undefined;
  Tags.of(app).add('Application', 'iwomp-in-aws');
  return { policies, iwomp, ...(projects === undefined ? {} : { projects }) };
}

function workerImageFor(kind: 'managed' | 'lambda' | 'ecr'): WorkerImage {
  switch (kind) {
    case 'managed':
      return WorkerImage.managed();
    case 'lambda':
      return WorkerImage.managed({ buildImage: codebuild.LinuxLambdaBuildImage.AMAZON_LINUX_2023_NODE_22 });
    case 'ecr':
      return WorkerImage.ecrRepository();
  }
}

/** Reads the app's options from CDK context, once, at the edge. */
export function readAppOptions(context: (key: string) => unknown): IwompAppOptions {
  const text = (key: string): string | undefined => {
    const value = context(`iwomp:${key}`);
    if (value === undefined || value === '') return undefined;
    if (typeof value !== 'string') throw new PipelinePropsError(`iwomp:${key}`, 'expected a string');
    return value;
  };
  const list = (key: string): string[] | undefined => {
    const value = context(`iwomp:${key}`);
    if (value === undefined || value === '') return undefined;
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
    if (typeof value === 'string') return value.split(',').map((v) => v.trim());
    throw new PipelinePropsError(`iwomp:${key}`, 'expected a list or a comma-separated string');
  };
  // `-c iwomp:demo=true` arrives as text, cdk.json may hold a boolean.
  const flag = (key: string): boolean | undefined => {
    const value = context(`iwomp:${key}`);
    if (value === undefined || value === '') return undefined;
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    throw new PipelinePropsError(`iwomp:${key}`, `expected true or false, got ${JSON.stringify(value)}`);
  };
  const image = text('workerImage');
  if (image !== undefined && image !== 'managed' && image !== 'lambda' && image !== 'ecr') {
    throw new PipelinePropsError(
      'iwomp:workerImage',
      `expected managed, lambda or ecr, got ${JSON.stringify(image)}`,
    );
  }
  const configPath = text('configPath');
  const githubRepositories = list('githubRepositories');
  const githubBranches = list('githubBranches');
  const githubOidcProviderArn = text('githubOidcProviderArn');
  const githubProjects = list('githubProjects');
  const demo = flag('demo');
  return {
    ...(configPath === undefined ? {} : { configPath }),
    ...(image === undefined ? {} : { workerImage: image }),
    ...(githubRepositories === undefined ? {} : { githubRepositories }),
    ...(githubBranches === undefined ? {} : { githubBranches }),
    ...(githubOidcProviderArn === undefined ? {} : { githubOidcProviderArn }),
    ...(githubProjects === undefined ? {} : { githubProjects }),
    ...(demo === undefined ? {} : { demo }),
  };
}
