import { Duration, Lazy, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as eventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  ACTIVE,
  ACTIVE_LANES_INDEX,
  BY_PROJECT_INDEX,
  EXPIRES_AT,
  PK,
  recordKey,
  STATE,
  WORKER_ATTRIBUTES,
} from '../adapters/aws/deploy-table.js';
import { DEPLOY_ROLE_PATH, SESSION_TAG_KEYS } from '../core/deploy-role.js';
import { InternalError, IwompError } from '../core/errors.js';
import { isFinished, JOB_STATES } from '../core/job-record.js';
import { DEFAULT_CONFIG_PATH, parseConfigPath, parseProjectName } from '../core/names.js';
import { TOPIC_PROJECTS_VAR } from '../core/topic-scope.js';
import { assetDigests, lambdaCode, WORKER_FILE, workerAsset } from './bundling.js';
import { IwompDeployRole, type IwompDeployRoleProps } from './deploy-role.js';
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

  /**
   * How long a deploy record is kept in the deploy table (its TTL), in whole days.
   * @default Duration.days(90)
   */
  readonly retention?: Duration;

  /**
   * What happens to the deploy table when it leaves the stack. The table is the deployment
   * history: by default it outlives the pipeline.
   * @default RemovalPolicy.RETAIN
   */
  readonly deployTableRemovalPolicy?: RemovalPolicy;

  /**
   * How often the launcher reconciles the lanes with CodeBuild (a build whose end event was lost,
   * a trigger deferred by the account's build limit), in whole minutes.
   * @default Duration.minutes(1)
   */
  readonly reconcileInterval?: Duration;
}

/** Options of {@link IwompPipeline.grantWatch}. */
export interface GrantWatchOptions {
  /**
   * Also read the worker's log group (`iwomp trigger --wait --logs`).
   * @default false
   */
  readonly logs?: boolean;
}

/** Options of {@link IwompPipeline.addTriggerTopic}. */
export interface TriggerTopicOptions {
  /** The only projects a trigger published to this topic may name (registry names, no patterns). */
  readonly projects: string[];
  /**
   * Display name of the topic (at most 100 characters).
   * @default - the main topic's display name
   */
  readonly displayName?: string;
}

/** Times the Lambda service retries a failed trigger before it goes to the failure queue. */
export const LAUNCHER_RETRY_ATTEMPTS = 2;
/** Age after which an unprocessed trigger goes to the failure queue instead of starting a deployment. */
export const LAUNCHER_MAX_EVENT_AGE = Duration.hours(1);
/**
 * Times Lambda retries a notifier batch whose publish failed (with the batch halved on each
 * error) before the failed records' place in the stream goes to the failure queue.
 */
export const NOTIFIER_RETRY_ATTEMPTS = 10;
/** A stream keeps records 24 hours: older than that, a result is not retried but kept in the failure queue. */
export const NOTIFIER_MAX_RECORD_AGE = Duration.days(1);
/** How long failed triggers stay in the failure queue: SQS's maximum. */
export const FAILURE_RETENTION = Duration.days(14);
/** How long a deploy record is kept unless `retention` says otherwise. */
export const DEFAULT_RETENTION = Duration.days(90);
/** How often the launcher reconciles unless `reconcileInterval` says otherwise. */
export const DEFAULT_RECONCILE_INTERVAL = Duration.minutes(1);

/** The launcher's environment for the deploy lifecycle (docs/lifecycle.md, "Environment"). */
export const DEPLOY_TABLE_VAR = 'IWOMP_DEPLOY_TABLE';
/** The notifier's one variable. */
export const RESULTS_TOPIC_VAR = 'IWOMP_RESULTS_TOPIC_ARN';
export const RETENTION_DAYS_VAR = 'IWOMP_RETENTION_DAYS';

/** Every deploy record's key starts with this; lanes' keys do not. */
const RECORD_KEY_PREFIX = recordKey('')[PK]?.S ?? '';

const MAX_DISPLAY_NAME = 100;

/** What the pipeline's two small functions, the launcher and the notifier, share. */
const LAMBDA_SETTINGS = {
  handler: 'index.handler',
  runtime: lambda.Runtime.NODEJS_24_X,
  architecture: lambda.Architecture.ARM_64,
  memorySize: 256,
  timeout: Duration.seconds(30),
} as const;

/**
 * The whole pipeline: an SNS topic CI publishes `{"project","branch","commit"?}` to, the launcher
 * Lambda that checks each trigger against the registry and starts the CodeBuild worker, and the
 * worker that clones the branch and runs the project's deploy command.
 *
 * @example
 * const pipeline = new IwompPipeline(stack, 'Pipeline');
 * pipeline.grantTrigger(ciRole);
 * // What project `web`'s deploy command may do; its registry entry names this role (deployRole):
 * const web = pipeline.addDeployRole('WebDeployRole', { project: 'web' });
 * siteBucket.grantReadWrite(web.role);
 * // A CI identity that may deploy only `web`:
 * const web = pipeline.addTriggerTopic('WebTrigger', { projects: ['web'] });
 * web.grantPublish(webCiRole);
 */
export class IwompPipeline extends Construct {
  /** Root of the project registry in SSM Parameter Store, without slashes. */
  readonly configPath: string;
  /** The topic CI publishes triggers to: every registered project. */
  readonly topic: sns.Topic;
  /** The launcher Lambda. */
  readonly launcher: lambda.Function;
  /** The launcher's log group: one line per trigger, accepted, rejected (with the reason) or failed. */
  readonly launcherLogGroup: logs.LogGroup;
  /** The CodeBuild project that runs deployments. */
  readonly workerProject: codebuild.Project;
  /** The worker's log group: the output of every deployment. */
  readonly workerLogGroup: logs.LogGroup;
  /**
   * The worker's role: it reads the registry, writes its logs, reads its own code and assumes
   * deploy roles. It holds no deploy rights: grant those to a project's {@link addDeployRole}.
   */
  readonly workerRole: iam.Role;
  /** Triggers the launcher could not handle after its retries, kept 14 days. */
  readonly failureQueue: sqs.Queue;
  /** The worker image repository, with `WorkerImage.ecrRepository()`. */
  readonly repository?: ecr.Repository;
  /**
   * One record per trigger and one lane per project (docs/lifecycle.md, "The table"): the
   * launcher writes it, the worker reports into its own record, CI reads it ({@link grantWatch}).
   */
  readonly deployTable: dynamodb.Table;
  /** Every record that reached a final state, as one JSON message: subscribe email, Chatbot, … */
  readonly resultsTopic: sns.Topic;
  /** The notifier Lambda: publishes on {@link resultsTopic} from the deploy table's stream. */
  readonly notifier: lambda.Function;
  /** The notifier's log group: one line per result published, or not published (and retried). */
  readonly notifierLogGroup: logs.LogGroup;

  private readonly settings: Settings;
  private readonly topicKey: kms.IAlias;
  private readonly scopedTopics: Array<{ readonly topic: sns.Topic; readonly projects: string[] }> = [];

  constructor(scope: Construct, id: string, props: IwompPipelineProps = {}) {
    super(scope, id);
    this.settings = validate(props);
    this.configPath = this.settings.configPath;
    // The AWS managed key: encryption at rest with no key to pay for, and publishers in this
    // account need no KMS permission, so a trigger right stays exactly sns:Publish.
    this.topicKey = kms.Alias.fromAliasName(this, 'TopicKey', 'alias/aws/sns');
    this.topic = this.renderTopic('Topic', this.settings.displayName);
    this.failureQueue = this.renderFailureQueue();
    this.deployTable = this.renderDeployTable();
    this.resultsTopic = this.renderTopic('ResultsTopic', 'iwomp-in-aws results');

    const retention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    this.workerLogGroup = new logs.LogGroup(this, 'WorkerLogs', { retention });
    this.workerRole = this.renderWorkerRole();
    const image = this.renderWorkerImage();
    this.repository = image.repository;
    this.workerProject = this.renderWorkerProject(image);

    this.launcherLogGroup = new logs.LogGroup(this, 'LauncherLogs', { retention });
    this.launcher = this.renderLauncher(this.renderLauncherRole());
    this.subscribeLauncher(this.topic);
    this.renderLauncherEvents();

    this.notifierLogGroup = new logs.LogGroup(this, 'NotifierLogs', { retention });
    this.notifier = this.renderNotifier(this.renderNotifierRole());
    this.renderNotifierStream();
  }

  /** Gives `grantee` the right to trigger deployments: `sns:Publish` on the topic, nothing else. */
  grantTrigger(grantee: iam.IGrantable): iam.Grant {
    return this.topic.grantPublish(grantee);
  }

  /**
   * Gives `grantee` what `iwomp trigger --wait` needs to follow a deploy: `dynamodb:GetItem` of
   * deploy records (keys `deploy#…`) by key, nothing else of the table (no lane, no Query or
   * Scan: a trigger id is the message id its own publish returned). With `logs`, reading the
   * worker's log group too (`--logs`).
   */
  grantWatch(grantee: iam.IGrantable, options: GrantWatchOptions = {}): iam.Grant {
    const records = iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:GetItem'],
      resourceArns: [this.deployTable.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${RECORD_KEY_PREFIX}*`] } },
    });
    return options.logs === true ? records.combine(this.grantWorkerLogsRead(grantee)) : records;
  }

  /**
   * Gives `grantee` the deploy history (`iwomp deploys list | show | logs`): every record and
   * lane by key, a project's records through the index, the whole table (a list across
   * projects), and the worker's log group. For people and tools that look back; CI that only
   * waits for its own deploy needs {@link grantWatch}.
   */
  grantHistory(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan'],
      resourceArns: [this.deployTable.tableArn, `${this.deployTable.tableArn}/index/${BY_PROJECT_INDEX}`],
    }).combine(this.grantWorkerLogsRead(grantee));
  }

  /**
   * Creates another trigger topic, subscribed to the same launcher, through which only the given
   * projects can be triggered: the launcher rejects any other project arriving from it. Give a
   * CI identity `grantPublish` on this topic (and not {@link grantTrigger}) to limit it to its
   * own projects. The main topic keeps triggering every project.
   */
  addTriggerTopic(id: string, options: TriggerTopicOptions): sns.Topic {
    const projects = parseProjects(options.projects);
    const topic = this.renderTopic(id, validDisplayName(options.displayName ?? this.settings.displayName));
    this.scopedTopics.push({ topic, projects });
    if (this.scopedTopics.length === 1) {
      // Lazy: topics added later still reach the launcher's environment.
      this.launcher.addEnvironment(
        TOPIC_PROJECTS_VAR,
        Lazy.string({
          produce: () =>
            Stack.of(this).toJsonString(
              this.scopedTopics.map((s) => ({ topicArn: s.topic.topicArn, projects: s.projects })),
            ),
        }),
      );
    }
    this.subscribeLauncher(topic);
    return topic;
  }

  /**
   * Creates a project's deploy role (see {@link IwompDeployRole}): the rights its deploy commands
   * get, and nothing of the pipeline's. Name its ARN in the project's `deployRole`.
   */
  addDeployRole(id: string, options: Omit<IwompDeployRoleProps, 'workerRole'>): IwompDeployRole {
    return new IwompDeployRole(this, id, { ...options, workerRole: this.workerRole });
  }

  /**
   * Creates a role GitHub Actions workflows of the given repositories and branches can assume
   * through OIDC (no long-lived keys), allowed only to publish to one trigger topic (the main
   * one, or `options.topic` made by {@link addTriggerTopic} to limit the role to its projects),
   * to follow deploys ({@link grantWatch} with logs) and to read this stack's outputs.
   */
  addGithubActionsRole(id: string, options: GithubActionsRoleOptions): iam.Role {
    const topic = options.topic ?? this.topic;
    if (topic !== this.topic && !this.scopedTopics.some((s) => s.topic === topic)) {
      throw new PipelinePropsError('topic', `must be this pipeline's topic or one made by addTriggerTopic`);
    }
    const role = githubActionsRole(this, id, options);
    topic.grantPublish(role);
    // CI follows what it triggered (`iwomp trigger --wait --logs`) and exits with the outcome.
    this.grantWatch(role, { logs: true });
    // The CLI finds the deploy table and the worker log group in this stack's outputs (names and
    // ARNs, nothing secret), as it finds the topic when IWOMPINAWS_TOPIC_ARN is not set.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['cloudformation:DescribeStacks'],
        resources: [Stack.of(this).stackId],
      }),
    );
    return role;
  }

  /** Reading builds' output; the stream of a build is named after its id. */
  private grantWorkerLogsRead(grantee: iam.IGrantable): iam.Grant {
    return this.workerLogGroup.grant(grantee, 'logs:GetLogEvents', 'logs:FilterLogEvents');
  }

  private renderTopic(id: string, displayName: string): sns.Topic {
    return new sns.Topic(this, id, { displayName, enforceSSL: true, masterKey: this.topicKey });
  }

  private renderDeployTable(): dynamodb.Table {
    const table = new dynamodb.Table(this, 'DeployTable', {
      partitionKey: { name: PK, type: dynamodb.AttributeType.STRING },
      // Deploys are rare and bursty: no capacity to plan or pay for while idle.
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // The AWS managed key (alias/aws/dynamodb), as for the topics: its use shows in CloudTrail,
      // there is no key to pay for or manage, and its key policy lets every principal of the
      // account use it through DynamoDB, so each grant stays exactly its DynamoDB actions.
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: EXPIRES_AT,
      removalPolicy: this.settings.tableRemovalPolicy,
      // The notifier publishes results from the stream: it needs the state before and after.
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    });
    // `iwomp deploys list --project P`: a project's records, newest first. Lanes carry no
    // `project`, so the index holds records only.
    table.addGlobalSecondaryIndex({
      indexName: BY_PROJECT_INDEX,
      partitionKey: { name: 'project', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'createdAt', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    // The reconcile's view: only lanes with a holder or waiting triggers carry the key, so it
    // reads those few every minute, not every record of the retention period.
    table.addGlobalSecondaryIndex({
      indexName: ACTIVE_LANES_INDEX,
      partitionKey: { name: ACTIVE, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    return table;
  }

  private renderFailureQueue(): sqs.Queue {
    const queue = new sqs.Queue(this, 'FailureQueue', {
      retentionPeriod: FAILURE_RETENTION,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is the last stop: the Lambda on-failure destination and the SNS subscription dead-letter queue. A queue behind it would only move the same messages.',
    });
    return queue;
  }

  /** Registry read access, shared by the launcher and the worker. */
  private grantRegistryRead(role: iam.Role): void {
    const stack = Stack.of(this);
    const parameterArn = stack.formatArn({
      service: 'ssm',
      resource: 'parameter',
      resourceName: `${this.configPath}/*`,
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['ssm:GetParameter'], resources: [parameterArn] }),
    );
    // SecureString values: decrypt only through SSM, and only for parameters under configPath.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [stack.formatArn({ service: 'kms', resource: 'key', resourceName: '*' })],
        conditions: {
          StringEquals: { 'kms:ViaService': `ssm.${stack.region}.${stack.urlSuffix}` },
          StringLike: { 'kms:EncryptionContext:PARAMETER_ARN': parameterArn },
        },
      }),
    );
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
  }

  private renderWorkerRole(): iam.Role {
    const role = new iam.Role(this, 'WorkerRole', {
      assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
      description: "iwomp-in-aws worker: reads the project registry and assumes projects' deploy roles",
    });
    this.grantRegistryRead(role);
    this.workerLogGroup.grantWrite(role);
    this.grantAssumeDeployRoles(role);
    this.grantWorkerReport(role);
    return role;
  }

  /**
   * The worker's report into its own record: `UpdateItem` of a deploy record (never a lane),
   * writing only the worker's attributes (the key names the item), and reading nothing back. It
   * cannot move a record's `state`: the launcher decides that from CodeBuild's events.
   */
  private grantWorkerReport(role: iam.Role): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:UpdateItem'],
        resources: [this.deployTable.tableArn],
        conditions: {
          'ForAllValues:StringEquals': { 'dynamodb:Attributes': [PK, ...WORKER_ATTRIBUTES] },
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${RECORD_KEY_PREFIX}*`] },
          // Absent means NONE, the default; anything else would read the record back.
          StringEqualsIfExists: { 'dynamodb:ReturnValues': 'NONE' },
        },
      }),
    );
  }

  /**
   * Deploy roles only: roles on the path `/iwomp-deploy/`, with a source identity that names a
   * project and the worker's session tags. Each deploy role's trust adds its own conditions.
   */
  private grantAssumeDeployRoles(role: iam.Role): void {
    const deployRoles = Stack.of(this).formatArn({
      service: 'iam',
      region: '',
      resource: 'role',
      resourceName: `${DEPLOY_ROLE_PATH.slice(1)}*`,
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
        resources: [deployRoles],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['sts:TagSession'],
        resources: [deployRoles],
        conditions: { 'ForAllValues:StringEquals': { 'aws:TagKeys': [...SESSION_TAG_KEYS] } },
      }),
    );
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/${DEPLOY_ROLE_PATH.slice(1)}*]`,
      reason:
        "Projects' deploy roles are created after the pipeline, one per project: the path is what marks them. Each one trusts only this role, for its own project's source identity.",
    });
  }

  /** The worker's image, source and command, with the rights to fetch them. */
  private renderWorkerImage(): WorkerImageParts {
    const image = this.settings.image.spec;
    if (image.kind === 'ecr') return this.renderEcrImage(image.repositoryName, image.tag);
    const asset = workerAsset();
    const bundle = new s3assets.Asset(this, 'WorkerBundle', asset);
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
    return {
      buildImage: image.buildImage,
      // The bundle is the build's source: CodeBuild downloads and unzips it, no Docker image needed.
      source: codebuild.Source.s3({ bucket: bundle.bucket, path: bundle.s3ObjectKey }),
      // Whoever can write the asset bucket (a CDK file-publishing role, for one) could swap the
      // worker for every later build: the build checks every file against the digests taken at
      // synth, which live in the project's buildspec, out of that bucket's reach.
      // Without bundling (tests that skip it) the asset is the source tree: there is nothing to check.
      ...(Stack.of(this).bundlingRequired ? { verify: verifyCommand(assetDigests(bundle)) } : {}),
      command: `node ${WORKER_FILE}`,
      ...(image.nodeVersion === undefined ? {} : { nodeVersion: image.nodeVersion }),
      // Curated EC2 images run builds as root and ship codebuild-user: the command runs as that
      // user, apart from the worker. Lambda compute has no root to switch from.
      ...(image.lambda ? {} : { runAs: 'codebuild-user', cdkCli: CDK_CLI_VERSION }),
    };
  }

  private renderEcrImage(repositoryName: string, tag: string): WorkerImageParts {
    const repository = new ecr.Repository(this, 'Repository', {
      repositoryName,
      imageScanOnPush: true,
      lifecycleRules: [{ description: 'Keep the last 10 images', maxImageCount: 10 }],
    });
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
        resources: [repository.repositoryArn],
      }),
    );
    return {
      buildImage: codebuild.LinuxBuildImage.fromEcrRepository(repository, tag),
      command: 'iwomp-worker',
      repository,
    };
  }

  private renderWorkerProject(image: WorkerImageParts): codebuild.Project {
    const { computeType, timeout } = this.settings;
    const project = new codebuild.Project(this, 'Worker', {
      description: 'iwomp-in-aws worker: clones a registered project and runs its deploy command',
      // CodeBuild's own grants (report groups, the default log group, the source bucket as a whole)
      // are more than the worker needs: every statement on the role is written above instead.
      role: this.workerRole.withoutPolicyUpdates(),
      grantReportGroupPermissions: false,
      ...(image.source === undefined ? {} : { source: image.source }),
      environment: {
        buildImage: image.buildImage,
        computeType,
        environmentVariables: {
          CONFIGPATH: { value: this.configPath },
          [DEPLOY_TABLE_VAR]: { value: this.deployTable.tableName },
          ...(image.runAs === undefined ? {} : { IWOMP_RUN_AS: { value: image.runAs } }),
        },
      },
      buildSpec: workerBuildSpec(image),
      ...(timeout === undefined ? {} : { timeout }),
      logging: { cloudWatch: { logGroup: this.workerLogGroup } },
    });
    this.acknowledgeWorkerFindings(project, image);
    // The role's policy is attached outside the project's own grants: make the project wait for it.
    dependOnPolicy(project, this.workerRole);
    return project;
  }

  private acknowledgeWorkerFindings(project: codebuild.Project, image: WorkerImageParts): void {
    Validations.of(project).acknowledge({
      id: 'AwsSolutions-CB4',
      reason:
        'The worker has no artifacts and no cache; CodeBuild encrypts its logs and temporary storage with the AWS managed key alias/aws/s3. A customer key would protect nothing more.',
    });
    if (image.repository !== undefined) {
      Validations.of(project).acknowledge({
        id: 'AwsSolutions-CB5',
        reason:
          "A custom image is the user's explicit choice (WorkerImage.ecrRepository): the seed's way to bring deployment tools. WorkerImage.managed() uses a curated image.",
      });
    }
  }

  private renderLauncherRole(): iam.Role {
    const role = new iam.Role(this, 'LauncherRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'iwomp-in-aws launcher: reads the project registry and starts the worker',
    });
    // BatchGetBuilds: the reconcile asks CodeBuild whether a lane's build is still running.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['codebuild:StartBuild', 'codebuild:BatchGetBuilds'],
        resources: [this.workerProject.projectArn],
      }),
    );
    this.grantRegistryRead(role);
    this.launcherLogGroup.grantWrite(role);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.failureQueue.queueArn] }),
    );
    // A lane change is one TransactWriteItems, which IAM authorises item by item as PutItem,
    // UpdateItem or ConditionCheckItem; Query on the active-lanes index finds the lanes the
    // reconcile has work with (no Scan: it would read every record). No
    // DeleteItem: records expire by TTL, lanes are emptied, never deleted.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:ConditionCheckItem',
        ],
        resources: [this.deployTable.tableArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [`${this.deployTable.tableArn}/index/${ACTIVE_LANES_INDEX}`],
      }),
    );
    return role;
  }

  private renderLauncher(role: iam.Role): lambda.Function {
    const launcher = new lambda.Function(this, 'Launcher', {
      description: 'iwomp-in-aws launcher: validates triggers and starts the worker',
      code: lambdaCode('launcher'),
      ...LAMBDA_SETTINGS,
      // As for the worker: the Lambda destination's own grant is wider than sqs:SendMessage.
      role: role.withoutPolicyUpdates(),
      logGroup: this.launcherLogGroup,
      environment: {
        CONFIGPATH: this.configPath,
        WORKER_PROJECT_NAME: this.workerProject.projectName,
        [DEPLOY_TABLE_VAR]: this.deployTable.tableName,
        [RETENTION_DAYS_VAR]: String(this.settings.retentionDays),
      },
      // SNS invokes asynchronously: a thrown (transient) failure is retried, then kept in the queue.
      retryAttempts: LAUNCHER_RETRY_ATTEMPTS,
      maxEventAge: LAUNCHER_MAX_EVENT_AGE,
      onFailure: new destinations.SqsDestination(this.failureQueue),
    });
    dependOnPolicy(launcher, role);
    // aws-cdk-lib's Function adds an explicit DependsOn on its role next to the GetAtt: redundant,
    // harmless, and not ours to remove.
    (launcher.node.defaultChild as lambda.CfnFunction).addMetadata('cfn-lint', {
      config: { ignore_checks: ['W3005'] },
    });
    return launcher;
  }

  /**
   * The launcher closes records from CodeBuild's "Build State Change" events of the worker
   * project (source aws.codebuild, detail project-name), and reconciles on a schedule what those
   * events missed (EventBridge delivers them on a best-effort basis).
   */
  private renderLauncherEvents(): void {
    this.workerProject.onStateChange('BuildStateChange', {
      description: 'iwomp-in-aws: a worker build changed state; the launcher updates its deploy record',
      target: new targets.LambdaFunction(this.launcher),
    });
    new events.Rule(this, 'Reconcile', {
      description: 'iwomp-in-aws: the launcher reconciles held lanes with CodeBuild',
      schedule: events.Schedule.rate(this.settings.reconcileInterval),
      targets: [new targets.LambdaFunction(this.launcher)],
    });
  }

  /**
   * The notifier's role: read the table's stream, publish on the results topic, write its logs,
   * and send what it could not publish to the failure queue. Nothing on the table itself.
   */
  private renderNotifierRole(): iam.Role {
    const role = new iam.Role(this, 'NotifierRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'iwomp-in-aws notifier: publishes deploy results from the deploy table stream',
    });
    this.notifierLogGroup.grantWrite(role);
    const streamArn = this.deployTable.tableStreamArn;
    if (streamArn === undefined) throw new InternalError('the deploy table has no stream');
    // What the event source mapping reads the stream with, as the function's role.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
        resources: [streamArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:ListStreams'], resources: ['*'] }),
    );
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'dynamodb:ListStreams has no resource type (IAM takes only "*"); it lists stream ARNs and reads none.',
    });
    // The stream's on-failure destination is sent by the mapping with the function's role.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.failureQueue.queueArn] }),
    );
    // The topic's key is the AWS managed alias/aws/sns: its key policy lets SNS use it for any
    // publisher of this account, so Publish needs no KMS statement.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [this.resultsTopic.topicArn] }),
    );
    return role;
  }

  private renderNotifier(role: iam.Role): lambda.Function {
    const notifier = new lambda.Function(this, 'Notifier', {
      description: 'iwomp-in-aws notifier: publishes each deploy result on the results topic',
      code: lambdaCode('notifier'),
      ...LAMBDA_SETTINGS,
      // As for the launcher: the mapping's own grants (stream read, the queue) are written above.
      role: role.withoutPolicyUpdates(),
      logGroup: this.notifierLogGroup,
      environment: { [RESULTS_TOPIC_VAR]: this.resultsTopic.topicArn },
    });
    dependOnPolicy(notifier, role);
    (notifier.node.defaultChild as lambda.CfnFunction).addMetadata('cfn-lint', {
      config: { ignore_checks: ['W3005'] },
    });
    return notifier;
  }

  /**
   * The stream invokes the notifier only for deploy records entering a final state: a key with
   * the record prefix, a final new state, and an old state that was not final (or no old image).
   * The notifier checks the same again; the filter only spares it the other writes. A failed
   * publish is retried alone (partial batch response); after the retries, or once the record is
   * older than the stream keeps, its place in the stream goes to the failure queue.
   */
  private renderNotifierStream(): void {
    const finals = JOB_STATES.filter(isFinished);
    const entering = (old: unknown) =>
      lambda.FilterCriteria.filter({
        dynamodb: {
          Keys: { [PK]: { S: lambda.FilterRule.beginsWith(RECORD_KEY_PREFIX) } },
          NewImage: { [STATE]: { S: lambda.FilterRule.or(...finals) } },
          OldImage: { [STATE]: { S: old } },
        },
      });
    this.notifier.addEventSource(
      new eventSources.DynamoEventSource(this.deployTable, {
        // From the oldest record the stream holds: a result written while the mapping was being
        // created is still published.
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        filters: [entering([{ 'anything-but': finals }]), entering(lambda.FilterRule.notExists())],
        reportBatchItemFailures: true,
        bisectBatchOnError: true,
        retryAttempts: NOTIFIER_RETRY_ATTEMPTS,
        maxRecordAge: NOTIFIER_MAX_RECORD_AGE,
        onFailure: new eventSources.SqsDlq(this.failureQueue),
      }),
    );
  }

  /** A message SNS cannot deliver to the Lambda at all also lands in the failure queue. */
  private subscribeLauncher(topic: sns.Topic): void {
    topic.addSubscription(
      new subscriptions.LambdaSubscription(this.launcher, { deadLetterQueue: this.failureQueue }),
    );
  }
}

/** What the worker project needs to know about its image. */
interface WorkerImageParts {
  readonly buildImage: codebuild.IBuildImage;
  readonly source?: codebuild.ISource;
  readonly command: string;
  /** `runtime-versions` of the buildspec's install phase, on managed EC2 images. */
  readonly nodeVersion?: string;
  readonly repository?: ecr.Repository;
  /** A command that fails unless the worker's files are the ones synthesized. */
  readonly verify?: string;
  /** `IWOMP_RUN_AS`: the user deploy commands run as. */
  readonly runAs?: string;
  /** A version of the CDK CLI to put on the deploy command's PATH. */
  readonly cdkCli?: string;
}

/**
 * The CDK CLI a deploy command finds on PATH on the managed image, so a project whose deploy
 * script calls a bare `cdk` (as the seed's did) deploys unchanged. Pinned: the same CLI this
 * repository's own `cdk` commands use (a test checks it against package.json).
 */
export const CDK_CLI_VERSION = '2.1148.1';

/**
 * The worker's buildspec: the Node.js runtime and the CDK CLI (managed EC2 images), then the
 * worker, once its files are proven to be the synthesized ones.
 */
function workerBuildSpec(image: WorkerImageParts): codebuild.BuildSpec {
  const install = {
    ...(image.nodeVersion === undefined ? {} : { 'runtime-versions': { nodejs: image.nodeVersion } }),
    ...(image.cdkCli === undefined
      ? {}
      : { commands: [`npm install --global --no-fund --no-audit aws-cdk@${image.cdkCli}`] }),
  };
  return codebuild.BuildSpec.fromObject({
    version: '0.2',
    phases: {
      ...(Object.keys(install).length === 0 ? {} : { install }),
      build: { commands: [...(image.verify === undefined ? [] : [image.verify]), image.command] },
    },
  });
}

/** `sha256sum --check` of every file of the worker's asset, as a single shell command. */
function verifyCommand(digests: readonly { readonly path: string; readonly sha256: string }[]): string {
  // Asset file names are the bundler's ([A-Za-z0-9._/-]): nothing in them needs quoting.
  const lines = digests.map((d) => `'${d.sha256}  ${d.path}'`).join(' ');
  return `printf '%s\\n' ${lines} | sha256sum --check --strict --quiet`;
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
  readonly retentionDays: number;
  readonly tableRemovalPolicy: RemovalPolicy;
  readonly reconcileInterval: Duration;
}

function validate(props: IwompPipelineProps): Settings {
  const configPath = wrap('configPath', () => parseConfigPath(props.configPath ?? DEFAULT_CONFIG_PATH));
  const displayName = validDisplayName(props.topicDisplayName ?? 'iwomp-in-aws jobs');
  const image = props.workerImage ?? WorkerImage.managed();
  const computeType = validComputeType(props.computeType, image.spec.lambda);
  const timeout = validTimeout(props.buildTimeout, image.spec.lambda);
  return {
    configPath,
    displayName,
    image,
    computeType,
    ...(timeout === undefined ? {} : { timeout }),
    retentionDays: wholeUnits('retention', props.retention ?? DEFAULT_RETENTION, 'days', 1),
    tableRemovalPolicy: props.deployTableRemovalPolicy ?? RemovalPolicy.RETAIN,
    reconcileInterval: Duration.minutes(
      wholeUnits('reconcileInterval', props.reconcileInterval ?? DEFAULT_RECONCILE_INTERVAL, 'minutes', 1),
    ),
  };
}

/** A duration as a whole number of `unit`, at least `min`. */
function wholeUnits(prop: string, duration: Duration, unit: 'days' | 'minutes', min: number): number {
  const value =
    unit === 'days' ? duration.toDays({ integral: false }) : duration.toMinutes({ integral: false });
  if (!Number.isInteger(value) || value < min) {
    throw new PipelinePropsError(
      prop,
      `must be a whole number of ${unit}, at least ${min}, got ${duration.toHumanString()}`,
    );
  }
  return value;
}

function validDisplayName(displayName: string): string {
  if (
    !Token.isUnresolved(displayName) &&
    (displayName.length === 0 || displayName.length > MAX_DISPLAY_NAME)
  ) {
    throw new PipelinePropsError(
      'topicDisplayName',
      `must be 1 to ${MAX_DISPLAY_NAME} characters, got ${displayName.length}`,
    );
  }
  return displayName;
}

function validComputeType(
  given: codebuild.ComputeType | undefined,
  lambdaImage: boolean,
): codebuild.ComputeType {
  const computeType = given ?? (lambdaImage ? codebuild.ComputeType.LAMBDA_1GB : codebuild.ComputeType.SMALL);
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
  return computeType;
}

function validTimeout(given: Duration | undefined, lambdaImage: boolean): Duration | undefined {
  if (given !== undefined && lambdaImage) {
    throw new PipelinePropsError(
      'buildTimeout',
      'Lambda compute stops every build at 15 minutes and takes no timeout',
    );
  }
  const timeout = lambdaImage ? undefined : (given ?? Duration.hours(1));
  if (timeout !== undefined) {
    const minutes = timeout.toMinutes({ integral: false });
    if (!Number.isInteger(minutes) || minutes < 5 || minutes > 2160) {
      throw new PipelinePropsError(
        'buildTimeout',
        `must be a whole number of minutes from 5 to 2160, got ${timeout.toHumanString()}`,
      );
    }
  }
  return timeout;
}

function parseProjects(projects: string[]): string[] {
  if (projects.length === 0) throw new PipelinePropsError('projects', 'list at least one project');
  const parsed = projects.map((project) => wrap('projects', () => parseProjectName(project)));
  const duplicate = parsed.find((project, i) => parsed.indexOf(project) !== i);
  if (duplicate !== undefined) throw new PipelinePropsError('projects', `${duplicate} is listed twice`);
  return parsed;
}

function wrap<T>(prop: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof IwompError) throw new PipelinePropsError(prop, error.message, { cause: error });
    throw error;
  }
}
