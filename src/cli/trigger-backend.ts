import type { TriggerMessage } from '../core/trigger-message.js';
import type { Registry } from '../ports/registry.js';
import type { CliIo } from './io.js';
import type { CliSettings } from './settings.js';

/** One trigger, already validated by the core rules. */
export interface TriggerRequest {
  readonly message: TriggerMessage;
  /** `--wait`: follow the deploy to its end and exit with its outcome (docs/lifecycle.md). */
  readonly wait: boolean;
  /** `--timeout` of `--wait`, in milliseconds. @default - none */
  readonly timeoutMs?: number;
  /** `--logs`: with `--wait` in AWS, stream the worker's log too (local mode always does). */
  readonly logs?: boolean;
  /** `--table`: the deploy table `--wait` reads (AWS). */
  readonly table?: string;
  /** `--topic-arn` (AWS). */
  readonly topicArn?: string;
  /** `--stack-name`: the stack whose `JobTopicArn` output names the topic (AWS). */
  readonly stackName: string;
  /** Called once everything is ready, just before the message is sent (or the job is queued). */
  readonly beforeSend?: () => void;
}

/** What a trigger printed and returned. */
export interface TriggerReport {
  /** Lines for a human, printed on stdout. */
  readonly lines: readonly string[];
  /** The `--json` document. */
  readonly json: Readonly<Record<string, unknown>>;
  /** Exit with this code instead of 0 (the outcome of a deploy followed with `--wait`). */
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
