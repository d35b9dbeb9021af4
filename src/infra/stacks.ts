/**
 * The seed's app on CDK v2: `iwomp-policies` (what deployments may do), `iwomp` (the pipeline) and
 * `iwomp-projects` (the demo project's registry entry), tagged `Application: iwomp-in-aws`.
 */
import { type App, CfnOutput, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { DEFAULT_CONFIG_PATH } from '../core/names.js';
import { parseProjectDocument, resolveProjectConfig } from '../core/project-config.js';
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
}

/** The demo project of the seed, registered as `/<configPath>/demo`. */
export const DEMO_PROJECT = {
  gitUrl: 'https://github.com/jkpl/cdk-demo',
  command: './deploy.sh',
  branches: ['master'],
} as const;

/** Names of the CDK bootstrap roles (default qualifier) a CDK deployment assumes. */
const BOOTSTRAP_ROLES = ['deploy-role', 'file-publishing-role', 'image-publishing-role', 'lookup-role'];

/** The worker's extra policy: enough to run `cdk deploy` through the account's CDK bootstrap roles. */
export class IwompPoliciesStack extends Stack {
  readonly workerPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, { description: 'iwomp-in-aws: what the worker may do when it deploys', ...props });
    // Assuming the bootstrap roles is all a CDK deployment needs; the roles hold the real rights.
    this.workerPolicy = new iam.ManagedPolicy(this, 'WorkerDeployPolicy', {
      description: 'iwomp-in-aws worker: deploy CDK apps through the CDK bootstrap roles',
      statements: [
        new iam.PolicyStatement({
          actions: ['sts:AssumeRole'],
          resources: BOOTSTRAP_ROLES.map(
            (role) =>
              `arn:${this.partition}:iam::${this.account}:role/cdk-hnb659fds-${role}-${this.account}-${this.region}`,
          ),
        }),
      ],
    });
  }
}

export interface IwompStackProps extends StackProps {
  readonly configPath: string;
  readonly workerImage: WorkerImage;
  readonly workerPolicies: iam.IManagedPolicy[];
  readonly github?: { repositories: string[]; branches?: string[]; oidcProviderArn?: string };
}

/** The pipeline and its outputs. */
export class IwompStack extends Stack {
  readonly pipeline: IwompPipeline;

  constructor(scope: Construct, id: string, props: IwompStackProps) {
    super(scope, id, { description: 'iwomp-in-aws: trigger topic, launcher and worker', ...props });
    this.pipeline = new IwompPipeline(this, 'Pipeline', {
      configPath: props.configPath,
      workerImage: props.workerImage,
      workerManagedPolicies: props.workerPolicies,
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
    if (this.pipeline.repository) {
      new CfnOutput(this, 'WorkerEcrUri', {
        description: 'Push the worker image here',
        value: this.pipeline.repository.repositoryUri,
      });
    }
    if (props.github) {
      const role = this.pipeline.addGithubActionsRole('GithubActionsTriggerRole', props.github);
      new CfnOutput(this, 'GithubActionsRoleArn', {
        description: 'role-to-assume for aws-actions/configure-aws-credentials',
        value: role.roleArn,
      });
    }
  }
}

export interface IwompProjectsStackProps extends StackProps {
  readonly configPath: string;
}

/** The registry entries managed as code: the seed's demo project. */
export class IwompProjectsStack extends Stack {
  constructor(scope: Construct, id: string, props: IwompProjectsStackProps) {
    super(scope, id, { description: 'iwomp-in-aws: registered projects', ...props });
    const name = `/${props.configPath}/demo`;
    const value = JSON.stringify(DEMO_PROJECT);
    // Refuse at synth what the launcher would refuse at run time.
    resolveProjectConfig(undefined, parseProjectDocument(value, name));
    new ssm.StringParameter(this, 'DemoProject', {
      parameterName: name,
      description: 'iwomp-in-aws project: demo',
      stringValue: value,
    });
  }
}

/** Adds the three stacks to `app`. */
export function addIwompStacks(
  app: App,
  options: IwompAppOptions = {},
): { policies: IwompPoliciesStack; iwomp: IwompStack; projects: IwompProjectsStack } {
  const configPath = options.configPath ?? DEFAULT_CONFIG_PATH;
  const policies = new IwompPoliciesStack(app, 'iwomp-policies');
  const iwomp = new IwompStack(app, 'iwomp', {
    configPath,
    workerImage: workerImageFor(options.workerImage ?? 'managed'),
    workerPolicies: [policies.workerPolicy],
    ...(options.githubRepositories
      ? {
          github: {
            repositories: options.githubRepositories,
            ...(options.githubBranches ? { branches: options.githubBranches } : {}),
            ...(options.githubOidcProviderArn ? { oidcProviderArn: options.githubOidcProviderArn } : {}),
          },
        }
      : {}),
  });
  const projects = new IwompProjectsStack(app, 'iwomp-projects', { configPath: iwomp.pipeline.configPath });
  Tags.of(app).add('Application', 'iwomp-in-aws');
  return { policies, iwomp, projects };
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
  return {
    ...(configPath === undefined ? {} : { configPath }),
    ...(image === undefined ? {} : { workerImage: image }),
    ...(githubRepositories === undefined ? {} : { githubRepositories }),
    ...(githubBranches === undefined ? {} : { githubBranches }),
    ...(githubOidcProviderArn === undefined ? {} : { githubOidcProviderArn }),
  };
}
