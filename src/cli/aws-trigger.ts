import { setTimeout as sleep } from 'node:timers/promises';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { DeployRecord } from '../core/deploy-record.js';
import { categoryOf, EnvironmentError } from '../core/errors.js';
import { isFinished } from '../core/job-record.js';
import { quote } from '../core/names.js';
import { formatTriggerMessage } from '../core/trigger-message.js';
import type { JobTracker } from '../ports/job-tracker.js';
import type { DeployTracker, DeployTrackerOptions } from './deploy-tracker.js';
import { deployView, printable } from './deploy-view.js';
import { AwsServiceError, awsErrorText, UsageError } from './errors.js';
import {
  followToOutcome,
  formatDuration,
  type OnInterrupt,
  onSigint,
  outcomeJson,
} from './follow-outcome.js';
import type { OutputStream } from './io.js';
import { stackOutput } from './stack-output.js';
import type { TriggerBackend, TriggerReport, TriggerRequest } from './trigger-backend.js';

/** The stack output that names the trigger topic (the seed's name). */
export const TOPIC_OUTPUT = 'JobTopicArn';

const TOPIC_ARN = /^arn:aws[a-z-]*:sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_-]{1,256})$/;

export interface TopicArn {
  readonly arn: string;
  /** The topic's region: where to publish, whatever the default region is. */
  readonly region: string;
}

/** Checks an SNS topic ARN; undefined when it is not one. */
export function parseTopicArn(value: string): TopicArn | undefined {
  const region = TOPIC_ARN.exec(value)?.[1];
  return region === undefined ? undefined : { arn: value, region };
}

const notAnArn = (value: string) =>
  `${quote(value)} is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)`;

export interface SnsTriggerBackendProps {
  /** Where `--wait` shows the deploy's progress (and its log with `--logs`). */
  readonly stderr: OutputStream;
  /** The deploy records `--wait` follows: the deploy table in the topic's region. */
  readonly deploys: (where: DeployTrackerOptions) => Promise<DeployTracker>;
  /** @default - the process's SIGINT */
  readonly onInterrupt?: OnInterrupt;
  /**
   * How long `--wait` gives the launcher to record the trigger after the publish, before it
   * says the launcher is not recording (an old stack, a failing launcher).
   * @default 60000
   */
  readonly recordGraceMs?: number;
  /**
   * SNS client to publish with.
   * @default - a client from the SDK's default chain, in the topic's region
   */
  readonly sns?: SNSClient;
  /**
   * CloudFormation client for the stack-output lookup.
   * @default - a client from the SDK's default chain
   */
  readonly cloudFormation?: CloudFormationClient;
  /** `IWOMPINAWS_TOPIC_ARN`, used when `--topic-arn` is not given. */
  readonly topicArnFromEnv?: string;
}

/**
 * The AWS trigger: publish the message to the pipeline's SNS topic; the launcher decides later.
 * With `--wait`, follow the deploy record the launcher keeps under the message id to its end.
 */
export class SnsTriggerBackend implements TriggerBackend {
  constructor(private readonly props: SnsTriggerBackendProps) {}

  async trigger(request: TriggerRequest): Promise<TriggerReport> {
    const topic = await this.topicArn(request);
    // Found before the publish: a stack without a deploy table is said before anything is sent.
    const tracker = request.wait
      ? await this.props.deploys({
          stackName: request.stackName,
          region: topic.region,
          ...(request.table === undefined ? {} : { table: request.table }),
        })
      : undefined;
    await tracker?.check();
    const body = formatTriggerMessage(request.message);
    const sns = this.props.sns ?? new SNSClient({ region: topic.region });
    request.beforeSend?.();
    let messageId: string | undefined;
    try {
      messageId = (await sns.send(new PublishCommand({ TopicArn: topic.arn, Message: body }))).MessageId;
    } catch (error) {
      throw new AwsServiceError(`cannot publish to ${topic.arn}: ${awsErrorText(error)}`, { cause: error });
    }
    const id = messageId ?? '';
    const lines = [`published ${body} to ${topic.arn}`, `message id: ${id}`];
    const json = { backend: 'aws', topicArn: topic.arn, messageId: id, message: request.message };
    if (tracker === undefined) return { lines, json };
    return { lines, ...(await this.wait(tracker, id, request, json)) };
  }

  /** `--wait`: the deploy's progress on stderr, its outcome as the exit code. */
  private async wait(
    tracker: JobTracker<DeployRecord>,
    id: string,
    request: TriggerRequest,
    json: Readonly<Record<string, unknown>>,
  ): Promise<Pick<TriggerReport, 'json' | 'exitCode'>> {
    const { stderr } = this.props;
    stderr.write(`» deploy ${id}\n`);
    const { record, exitCode } = await followToOutcome<DeployRecord>({
      noun: 'deploy',
      id,
      stderr,
      showLog: request.logs === true,
      ...(request.timeoutMs === undefined ? {} : { timeoutMs: request.timeoutMs }),
      onInterrupt: this.props.onInterrupt ?? onSigint,
      ready: (signal) => this.recorded(tracker, id, signal),
      follow: (hooks) => tracker.follow(id, hooks),
      followHint: `Follow it: iwomp deploys logs ${id} --follow`,
    });
    if (record !== undefined && isFinished(record.state) && record.state !== 'succeeded') {
      const reason = record.error === undefined ? '' : `: ${printable(record.error)}`;
      const log = record.logUrl === undefined ? '' : ` (log: ${record.logUrl})`;
      stderr.write(`iwomp: deploy ${id} ${record.state}${reason}${log}\n`);
    }
    return {
      json: {
        ...json,
        ...(record === undefined
          ? {}
          : { ...outcomeJson(record), deploy: deployView(record, record.logUrl ?? '') }),
      },
      exitCode,
    };
  }

  /**
   * Waits until the launcher has recorded the trigger (its Lambda runs a moment after the
   * publish). False when the wait was stopped first.
   */
  private async recorded(
    tracker: JobTracker<DeployRecord>,
    id: string,
    signal: AbortSignal,
  ): Promise<boolean> {
    const graceMs = this.props.recordGraceMs ?? 60_000;
    const deadline = Date.now() + graceMs;
    let pollMs = 100;
    for (;;) {
      try {
        await tracker.get(id);
        return true;
      } catch (error) {
        if (categoryOf(error) !== 'not-found') throw error;
      }
      if (signal.aborted) return false;
      if (Date.now() >= deadline) {
        throw new AwsServiceError(
          `the launcher has not recorded message ${id} in ${tracker.location} after ${formatDuration(graceMs)}: is the stack up to date? See the launcher's log group (stack output LauncherLogGroupName)`,
          { category: 'misconfigured' },
        );
      }
      try {
        await sleep(pollMs, undefined, { signal });
      } catch {
        // Stopped (--timeout, Ctrl-C): said by the caller.
      }
      pollMs = Math.min(1000, Math.round(pollMs * 1.5));
    }
  }

  private async topicArn(request: TriggerRequest): Promise<TopicArn> {
    if (request.topicArn !== undefined) {
      const topic = parseTopicArn(request.topicArn);
      if (!topic) throw new UsageError(`--topic-arn: ${notAnArn(request.topicArn)}`);
      return topic;
    }
    const fromEnv = this.props.topicArnFromEnv;
    if (fromEnv !== undefined) {
      const topic = parseTopicArn(fromEnv);
      if (!topic) throw new EnvironmentError('IWOMPINAWS_TOPIC_ARN', notAnArn(fromEnv));
      return topic;
    }
    const cloudFormation = this.props.cloudFormation ?? new CloudFormationClient({});
    const value = await stackOutput(cloudFormation, request.stackName, TOPIC_OUTPUT);
    const topic = parseTopicArn(value);
    if (!topic) {
      throw new AwsServiceError(`output ${TOPIC_OUTPUT} of stack '${request.stackName}': ${notAnArn(value)}`);
    }
    return topic;
  }
}
