import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { InternalError, IwompError } from '../core/errors.js';
import { DEFAULT_CONFIG_PATH, parseConfigPath } from '../core/names.js';
import { launcherBundling, launcherEntry, packageRoot, WORKER_FILE, workerBundling } from './bundling.js';
import { PipelinePropsError } from './errors.js';
import { type GithubActionsRoleOptions, githubActionsRole } from './github-actions.js';
import { WorkerImage } from './worker-image.js';

/** Properties of {@link IwompPipeline}. */
export interface IwompPipelineProps {
  /**
   * Root of the project registry in SSM Parameter Store: projects are `/<configPath>/<project>`,
   * shared defaults `/<configPath>/_default`.
   * @default 'iwomp-in-aws'
   */
  readonly configPath?: string;

  /**
   * Display name of the trigger topic (at most 100 characters).
   * @default 'iwomp-in-aws jobs'
   */
  readonly topicDisplayName?: string;

  /**
   * The image the CodeBuild worker runs in.
   * @default WorkerImage.managed() - CodeBuild's curated standard image, worker bundle as an asset
   */
  readonly workerImage?: WorkerImage;

  /**
   * Compute of the worker. Lambda compute types (`LAMBDA_1GB` …) need a Lambda build image.
   * @default codebuild.ComputeType.SMALL; codebuild.ComputeType.LAMBDA_1GB with a Lambda build image
   */
  readonly computeType?: codebuild.ComputeType;

  /**
   * Managed policies attached to the worker's role: what your deploy commands may do.
   * @default - none: the worker can read the registry and nothing else
   */
  readonly workerManagedPolicies?: iam.IManagedPolicy[];

  /**
   * How long a deployment may run, 5 minutes to 36 hours. Lambda compute always stops at
   * 15 minutes and takes no timeout.
   * @default Duration.hours(1)
   */
  readonly buildTimeout?: Duration;

  /**
   * Retention of the launcher's and the worker's log groups.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
}

/** Times the Lambda service retries a failed trigger before it goes to the failure queue. */
export const LAUNCHER_RETRY_ATTEMPTS = 2;
/** Age after which an unprocessed trigger goes to the failure queue instead of starting a deployment. */
export const LAUNCHER_MAX_EVENT_AGE = Duration.hours(1);
/** How long failed triggers stay in the failure queue: SQS's maximum. */
export const FAILURE_RETENTION = Duration.days(14);

const MAX_DISPLAY_NAME = 100;

/**
 * The whole pipeline: an SNS topic CI publishes `{"project","branch","commit"?}` to, the launcher
 * Lambda that checks each trigger against the registry and starts the CodeBuild worker, and the
 * worker that clones the branch and runs the project's deploy command.
 *
 * @example
 * const pipeline = new IwompPipeline(stack, 'Pipeline', {
 *   workerManagedPolicies: [deployPolicy],
 * });
 * pipeline.grantTrigger(ciRole);
 */
export class IwompPipeline extends Construct {
  /** Root of the project registry in SSM Parameter Store, without slashes. */
  readonly configPath: string;
  /** The topic CI publishes triggers to. */
  readonly topic: sns.Topic;
  /** The launcher Lambda. */
  readonly launcher: nodejs.NodejsFunction;
  /** The CodeBuild project that runs deployments. */
  readonly workerProject: codebuild.Project;
  /** The worker's role: grant it what deployments need (or use `workerManagedPolicies`). */
  readonly workerRole: iam.Role;
  /** Triggers the launcher could not handle after its retries, kept 14 days. */
  readonly failureQueue: sqs.Queue;
  /** The worker image repository, with `WorkerImage.ecrRepository()`. */
  readonly repository?: ecr.Repository;

  constructor(scope: Construct, id: string, props: IwompPipelineProps = {}) {
    super(scope, id);
    const settings = validate(props);
    this.configPath = settings.configPath;
    const stack = Stack.of(this);
    const retention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;

    this.topic = new sns.Topic(this, 'Topic', {
      displayName: settings.displayName,
      enforceSSL: true,
      // The AWS managed key: encryption at rest with no key to pay for, and publishers in this
      // account need no KMS permission, so a trigger right stays exactly sns:Publish.
      masterKey: kms.Alias.fromAliasName(this, 'TopicKey', 'alias/aws/sns'),
    });

    this.failureQueue = new sqs.Queue(this, 'FailureQueue', {
      retentionPeriod: FAILURE_RETENTION,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(this.failureQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is the last stop: the Lambda on-failure destination and the SNS subscription dead-letter queue. A queue behind it would only move the same messages.',
    });

    // Registry read access, shared by the launcher and the worker.
    const parameterArn = stack.formatArn({
      service: 'ssm',
      resource: 'parameter',
      resourceName: `${this.configPath}/*`,
    });
    const registryStatements = [
      new iam.PolicyStatement({ actions: ['ssm:GetParameter'], resources: [parameterArn] }),
      // SecureString values: decrypt only through SSM, and only for parameters under configPath.
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [stack.formatArn({ service: 'kms', resource: 'key', resourceName: '*' })],
        conditions: {
          StringEquals: { 'kms:ViaService': `ssm.${stack.region}.${stack.urlSuffix}` },
          StringLike: { 'kms:EncryptionContext:PARAMETER_ARN': parameterArn },
        },
      }),
    ];

    const acknowledgeRegistry = (role: iam.IRole) => {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/${this.configPath}/*]`,
        reason:
          'The registry is a parameter prefix: one parameter per project (and _default), registered after deployment. Read only, GetParameter only.',
      });
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*]',
        reason:
          'SecureString parameters may use aws/ssm or any key the user picks; kms:ViaService limits use to SSM and the PARAMETER_ARN encryption context to parameters under configPath.',
      });
    };

    // Worker ------------------------------------------------------------------------------------
    const workerLogs = new logs.LogGroup(this, 'WorkerLogs', { retention });
    this.workerRole = new iam.Role(this, 'WorkerRole', {
      assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
      description: 'iwomp-in-aws worker: reads the project registry, deploys with the attached policies',
      managedPolicies: props.workerManagedPolicies ?? [],
    });
    for (const statement of registryStatements) this.workerRole.addToPrincipalPolicy(statement);
    acknowledgeRegistry(this.workerRole);
    workerLogs.grantWrite(this.workerRole);

    const image = settings.image.spec;
    let buildImage: codebuild.IBuildImage;
    let source: codebuild.ISource | undefined;
    let command: string;
    if (image.kind === 'ecr') {
      this.repository = new ecr.Repository(this, 'Repository', {
        repositoryName: image.repositoryName,
        imageScanOnPush: true,
        lifecycleRules: [{ description: 'Keep the last 10 images', maxImageCount: 10 }],
      });
      buildImage = codebuild.LinuxBuildImage.fromEcrRepository(this.repository, image.tag);
      // Pulling with the service role; GetAuthorizationToken has no resource-level permissions.
      this.workerRole.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }),
      );
      Validations.of(this.workerRole).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'ecr:GetAuthorizationToken supports no resource-level permissions; the pull actions are limited to the repository.',
      });
      this.workerRole.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
          resources: [this.repository.repositoryArn],
        }),
      );
      command = 'iwomp-worker';
    } else {
      buildImage = image.buildImage;
      const bundle = new s3assets.Asset(this, 'WorkerBundle', {
        path: `${packageRoot}src`,
        bundling: workerBundling(),
      });
      // The bundle is the build's source: CodeBuild downloads and unzips it, no Docker image needed.
      source = codebuild.Source.s3({ bucket: bundle.bucket, path: bundle.s3ObjectKey });
      this.workerRole.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['s3:GetObject', 's3:GetObjectVersion'],
          resources: [bundle.bucket.arnForObjects(bundle.s3ObjectKey)],
        }),
      );
      this.workerRole.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['s3:GetBucketAcl', 's3:GetBucketLocation'],
          resources: [bundle.bucket.bucketArn],
        }),
      );
      command = `node ${WORKER_FILE}`;
    }

    this.workerProject = new codebuild.Project(this, 'Worker', {
      description: 'iwomp-in-aws worker: clones a registered project and runs its deploy command',
      // CodeBuild's own grants (report groups, the default log group, the source bucket as a whole)
      // are more than the worker needs: every statement on the role is written above instead.
      role: this.workerRole.withoutPolicyUpdates(),
      grantReportGroupPermissions: false,
      ...(source === undefined ? {} : { source }),
      environment: {
        buildImage,
        computeType: settings.computeType,
        environmentVariables: { CONFIGPATH: { value: this.configPath } },
      },
      buildSpec: codebuild.BuildSpec.fromObject({
        version: '0.2',
        phases: {
          ...(image.kind === 'managed' && image.nodeVersion !== undefined
            ? { install: { 'runtime-versions': { nodejs: image.nodeVersion } } }
            : {}),
          build: { commands: [command] },
        },
      }),
      ...(settings.timeout === undefined ? {} : { timeout: settings.timeout }),
      logging: { cloudWatch: { logGroup: workerLogs } },
    });
    Validations.of(this.workerProject).acknowledge({
      id: 'AwsSolutions-CB4',
      reason:
        'The worker has no artifacts and no cache; CodeBuild encrypts its logs and temporary storage with the AWS managed key alias/aws/s3. A customer key would protect nothing more.',
    });
    if (image.kind === 'ecr') {
      Validations.of(this.workerProject).acknowledge({
        id: 'AwsSolutions-CB5',
        reason:
          "A custom image is the user's explicit choice (WorkerImage.ecrRepository): the seed's way to bring deployment tools. WorkerImage.managed() uses a curated image.",
      });
    }
    // The role's policy is attached outside the project's own grants: make the project wait for it.
    dependOnPolicy(this.workerProject, this.workerRole);

    // Launcher ----------------------------------------------------------------------------------
    const launcherLogs = new logs.LogGroup(this, 'LauncherLogs', { retention });
    const launcherRole = new iam.Role(this, 'LauncherRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'iwomp-in-aws launcher: reads the project registry and starts the worker',
    });
    launcherRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['codebuild:StartBuild'],
        resources: [this.workerProject.projectArn],
      }),
    );
    for (const statement of registryStatements) launcherRole.addToPrincipalPolicy(statement);
    acknowledgeRegistry(launcherRole);
    launcherLogs.grantWrite(launcherRole);
    launcherRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.failureQueue.queueArn] }),
    );

    this.launcher = new nodejs.NodejsFunction(this, 'Launcher', {
      description: 'iwomp-in-aws launcher: validates triggers and starts the worker',
      entry: launcherEntry,
      handler: 'handler',
      projectRoot: packageRoot,
      depsLockFilePath: `${packageRoot}package-lock.json`,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(30),
      // As for the worker: the Lambda destination's own grant is wider than sqs:SendMessage.
      role: launcherRole.withoutPolicyUpdates(),
      logGroup: launcherLogs,
      environment: {
        CONFIGPATH: this.configPath,
        WORKER_PROJECT_NAME: this.workerProject.projectName,
      },
      bundling: launcherBundling(),
      // SNS invokes asynchronously: a thrown (transient) failure is retried, then kept in the queue.
      retryAttempts: LAUNCHER_RETRY_ATTEMPTS,
      maxEventAge: LAUNCHER_MAX_EVENT_AGE,
      onFailure: new destinations.SqsDestination(this.failureQueue),
    });

    dependOnPolicy(this.launcher, launcherRole);
    // aws-cdk-lib's Function adds an explicit DependsOn on its role next to the GetAtt: redundant,
    // harmless, and not ours to remove.
    (this.launcher.node.defaultChild as lambda.CfnFunction).addMetadata('cfn-lint', {
      config: { ignore_checks: ['W3005'] },
    });

    // A message SNS cannot deliver to the Lambda at all also lands in the failure queue.
    this.topic.addSubscription(
      new subscriptions.LambdaSubscription(this.launcher, { deadLetterQueue: this.failureQueue }),
    );
  }

  /** Gives `grantee` the right to trigger deployments: `sns:Publish` on the topic, nothing else. */
  grantTrigger(grantee: iam.IGrantable): iam.Grant {
    return this.topic.grantPublish(grantee);
  }

  /**
   * Creates a role GitHub Actions workflows of the given repositories and branches can assume
   * through OIDC (no long-lived keys), allowed only to trigger deployments.
   */
  addGithubActionsRole(id: string, options: GithubActionsRoleOptions): iam.Role {
    const role = githubActionsRole(this, id, options);
    this.grantTrigger(role);
    return role;
  }
}

/**
 * Makes `resource` wait for the role's inline policy, which its own grants do not create (the role
 * itself is already a dependency through its ARN).
 */
function dependOnPolicy(resource: Construct, role: iam.Role): void {
  const policy = role.node.tryFindChild('DefaultPolicy');
  if (policy === undefined) throw new InternalError(`role ${role.node.path} has no policy to wait for`);
  resource.node.addDependency(policy);
}

interface Settings {
  readonly configPath: string;
  readonly displayName: string;
  readonly image: WorkerImage;
  readonly computeType: codebuild.ComputeType;
  readonly timeout?: Duration;
}

function validate(props: IwompPipelineProps): Settings {
  const configPath = wrap('configPath', () => parseConfigPath(props.configPath ?? DEFAULT_CONFIG_PATH));

  const displayName = props.topicDisplayName ?? 'iwomp-in-aws jobs';
  if (
    !Token.isUnresolved(displayName) &&
    (displayName.length === 0 || displayName.length > MAX_DISPLAY_NAME)
  ) {
    throw new PipelinePropsError(
      'topicDisplayName',
      `must be 1 to ${MAX_DISPLAY_NAME} characters, got ${displayName.length}`,
    );
  }

  const image = props.workerImage ?? WorkerImage.managed();
  const lambdaImage = image.spec.lambda;
  const computeType =
    props.computeType ?? (lambdaImage ? codebuild.ComputeType.LAMBDA_1GB : codebuild.ComputeType.SMALL);
  const lambdaCompute = computeType.startsWith('BUILD_LAMBDA_');
  if (lambdaCompute && !lambdaImage) {
    throw new PipelinePropsError(
      'computeType',
      `${computeType} needs a Lambda build image, e.g. WorkerImage.managed({ buildImage: LinuxLambdaBuildImage.AMAZON_LINUX_2023_NODE_22 })`,
    );
  }
  if (lambdaImage && !lambdaCompute) {
    throw new PipelinePropsError(
      'computeType',
      `a Lambda build image needs a Lambda compute type, got ${computeType}`,
    );
  }

  if (props.buildTimeout !== undefined && lambdaImage) {
    throw new PipelinePropsError(
      'buildTimeout',
      'Lambda compute stops every build at 15 minutes and takes no timeout',
    );
  }
  const timeout = lambdaImage ? undefined : (props.buildTimeout ?? Duration.hours(1));
  if (timeout !== undefined) {
    const minutes = timeout.toMinutes({ integral: false });
    if (!Number.isInteger(minutes) || minutes < 5 || minutes > 2160) {
      throw new PipelinePropsError(
        'buildTimeout',
        `must be a whole number of minutes from 5 to 2160, got ${timeout.toHumanString()}`,
      );
    }
  }
  return { configPath, displayName, image, computeType, ...(timeout === undefined ? {} : { timeout }) };
}

function wrap<T>(prop: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof IwompError) throw new PipelinePropsError(prop, error.message, { cause: error });
    throw error;
  }
}
