import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { EnvironmentError } from '../core/errors.js';
import { quote } from '../core/names.js';
import { formatTriggerMessage } from '../core/trigger-message.js';
import { AwsServiceError, awsErrorText, NotFoundError, UsageError } from './errors.js';
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

/** Reads one output of a CloudFormation stack. */
export async function stackOutput(
  cloudFormation: CloudFormationClient,
  stackName: string,
  outputKey: string,
): Promise<string> {
  let outputs: { OutputKey?: string; OutputValue?: string }[];
  try {
    const out = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = out.Stacks?.[0]?.Outputs ?? [];
  } catch (error) {
    // CloudFormation reports a missing stack as a ValidationError, like a malformed request.
    if (error instanceof Error && /does not exist/.test(error.message)) {
      throw new NotFoundError(
        `stack '${stackName}' does not exist: deploy it (./bin/deploy_infra.sh), or give the topic with --topic-arn or IWOMPINAWS_TOPIC_ARN`,
        { cause: error },
      );
    }
    throw new AwsServiceError(`cannot describe stack '${stackName}': ${awsErrorText(error)}`, {
      cause: error,
    });
  }
  const value = outputs.find((o) => o.OutputKey === outputKey)?.OutputValue;
  if (value === undefined || value === '') {
    throw new NotFoundError(`stack '${stackName}' has no output ${outputKey}`);
  }
  return value;
}

export interface SnsTriggerBackendProps {
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
 * The AWS trigger: publish the message to the pipeline's SNS topic. The Lambda decides later;
 * all CI learns here is that the message was accepted by SNS.
 */
export class SnsTriggerBackend implements TriggerBackend {
  constructor(private readonly props: SnsTriggerBackendProps = {}) {}

  async trigger(request: TriggerRequest): Promise<TriggerReport> {
    if (request.wait) {
      throw new UsageError('--wait needs --local: in AWS, follow the build in CodeBuild');
    }
    const topic = await this.topicArn(request);
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
    return {
      lines: [`published ${body} to ${topic.arn}`, `message id: ${id}`],
      json: { backend: 'aws', topicArn: topic.arn, messageId: id, message: request.message },
    };
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
