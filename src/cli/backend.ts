import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { CodeBuildClient } from '@aws-sdk/client-codebuild';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { JobTracker } from '../ports/job-tracker.js';
import type { Registry } from '../ports/registry.js';
import type { DeployTrackerOptions } from './deploy-tracker.js';
import type { CliIo } from './io.js';
import { noticeUnsupportedNode } from './node-support.js';
import type { BackendKind, CliSettings } from './settings.js';
import type { LocalTriggerFactory, TriggerBackend } from './trigger-backend.js';

/** SDK clients the CLI uses; each defaults to one from the SDK's default chain. */
export interface AwsClients {
  readonly ssm?: SSMClient;
  readonly sns?: SNSClient;
  readonly cloudFormation?: CloudFormationClient;
  /** The deploy table (`trigger --wait`, `deploys`). */
  readonly dynamodb?: DynamoDBClient;
  /** The worker's log (`--logs`, `deploys logs`). */
  readonly logs?: CloudWatchLogsClient;
  /** StopBuild (`deploys cancel`). */
  readonly codebuild?: CodeBuildClient;
}

/** A pipeline the CLI talks to: where projects are registered and where triggers go. */
export interface Backend {
  readonly kind: BackendKind;
  readonly settings: CliSettings;
  /**
   * Whether `file://` and plain-`http://` git URLs may be registered: only in local mode, whose
   * jobs run the worker with `IWOMP_LOCAL=1`. A folder registry alone does not allow them, as it
   * does not for the worker: it may hold a config bound for AWS.
   */
  readonly allowsLocalGitUrls: boolean;
  /** Loaded on first use: `--help` and local runs never load the AWS SDK. */
  registry(): Promise<Registry>;
  triggers(): Promise<TriggerBackend>;
  /** Where deploys are read back: the state directory locally, the deploy table in AWS. */
  jobs(where: DeployTrackerOptions): Promise<JobTracker>;
}

export interface BackendDeps {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly io: CliIo;
  readonly clients?: AwsClients;
  readonly localTrigger: LocalTriggerFactory;
}

/** Picks the backend the settings name. Adapters and SDK clients are built on first use. */
export function createBackend(settings: CliSettings, deps: BackendDeps): Backend {
  let registry: Registry | undefined;
  const getRegistry = async () => {
    // Loaded here, not at the top: the SDK clients are most of the bundle's start-up time.
    const { createRegistry } = await import('../adapters/create-registry.js');
    // Where the CLI makes an SDK client itself, it says what the SDK's silenced notice said.
    if (settings.registry.kind === 'ssm' && !deps.clients?.ssm) noticeUnsupportedNode(deps.env, deps.io);
    registry ??= createRegistry(
      settings.registry,
      settings.configPath,
      deps.clients?.ssm ? { ssm: deps.clients.ssm } : {},
    );
    return registry;
  };
  return {
    kind: settings.backend,
    settings,
    allowsLocalGitUrls: settings.backend === 'local',
    registry: getRegistry,
    jobs: async (where) => {
      if (settings.backend === 'local') {
        const { LocalJobTracker } = await import('../adapters/local/local-job-tracker.js');
        return new LocalJobTracker(settings.stateDir);
      }
      const { createDeployTracker } = await import('./aws-deploys.js');
      if (!deps.clients?.dynamodb) noticeUnsupportedNode(deps.env, deps.io);
      return createDeployTracker(settings, deps.clients ?? {}, where);
    },
    triggers: async () => {
      if (settings.backend === 'local') {
        return deps.localTrigger({
          registry: await getRegistry(),
          stateDir: settings.stateDir,
          settings,
          env: deps.env,
          io: deps.io,
        });
      }
      const { SnsTriggerBackend } = await import('./aws-trigger.js');
      if (!deps.clients?.sns) noticeUnsupportedNode(deps.env, deps.io);
      return new SnsTriggerBackend({
        stderr: deps.io.stderr,
        deploys: async (where) => {
          const { createDeployTracker } = await import('./aws-deploys.js');
          return createDeployTracker(settings, deps.clients ?? {}, where);
        },
        ...(deps.clients?.sns ? { sns: deps.clients.sns } : {}),
        ...(deps.clients?.cloudFormation ? { cloudFormation: deps.clients.cloudFormation } : {}),
        ...(settings.topicArn === undefined ? {} : { topicArnFromEnv: settings.topicArn }),
      });
    },
  };
}
