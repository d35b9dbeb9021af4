import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { TriggerMessage } from '../core/trigger-message.js';
import type { Registry } from '../ports/registry.js';
import type { CliIo } from './io.js';
import type { BackendKind, CliSettings } from './settings.js';

/** One trigger, already validated by the core rules. */
export interface TriggerRequest {
  readonly message: TriggerMessage;
  /** `--wait`: follow the job to its end and exit with its status (local mode). */
  readonly wait: boolean;
  /** `--topic-arn` (AWS). */
  readonly topicArn?: string;
  /** `--stack-name`: the stack whose `JobTopicArn` output names the topic (AWS). */
  readonly stackName: string;
}

/** What a trigger printed and returned. */
export interface TriggerReport {
  /** Lines for a human, printed on stdout. */
  readonly lines: readonly string[];
  /** The `--json` document. */
  readonly json: Readonly<Record<string, unknown>>;
  /** Exit with this code instead of 0 (for example the status of a job followed with `--wait`). */
  readonly exitCode?: number;
}

/**
 * Sends a trigger to a pipeline: SNS publish in AWS, the launcher logic and a local job in local
 * mode. A trigger the pipeline refuses throws `TriggerRejectedError` (exit code 6).
 */
export interface TriggerBackend {
  trigger(request: TriggerRequest): Promise<TriggerReport>;
}

/** What local mode's trigger gets to work with. */
export interface LocalTriggerContext {
  /** The registry the CLI resolved: `<stateDir>/registry` unless `IWOMP_REGISTRY` says otherwise. */
  readonly registry: Registry;
  /** Absolute path of the local state directory (`IWOMP_STATE_DIR`, default `.iwomp`). */
  readonly stateDir: string;
  readonly settings: CliSettings;
  /** The CLI's environment, for the child worker (PATH, HOME, …). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** For progress while `--wait` follows a job (stderr), and nothing else: results go in the report. */
  readonly io: CliIo;
}

/** Builds the local trigger: the seam where local mode plugs into `iwomp trigger --local`. */
export type LocalTriggerFactory = (context: LocalTriggerContext) => TriggerBackend;

/** SDK clients the CLI uses; each defaults to one from the SDK's default chain. */
export interface AwsClients {
  readonly ssm?: SSMClient;
  readonly sns?: SNSClient;
  readonly cloudFormation?: CloudFormationClient;
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
      return new SnsTriggerBackend({
        ...(deps.clients?.sns ? { sns: deps.clients.sns } : {}),
        ...(deps.clients?.cloudFormation ? { cloudFormation: deps.clients.cloudFormation } : {}),
        ...(settings.topicArn === undefined ? {} : { topicArnFromEnv: settings.topicArn }),
      });
    },
  };
}
