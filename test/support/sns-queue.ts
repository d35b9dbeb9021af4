import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { Moto } from './moto.js';

/** What SNS delivered to a subscribed SQS queue: the envelope's id and the message text, untouched. */
export interface Delivered {
  readonly messageId: string;
  readonly message: string;
  /** The message attributes, name to string value (what a subscription's filter policy sees). */
  readonly attributes: Record<string, string>;
}

export interface TopicQueue {
  readonly topicArn: string;
  /** Waits for the next delivery (or undefined after `waitSeconds`) and deletes it from the queue. */
  next(waitSeconds?: number): Promise<Delivered | undefined>;
}

/** A real SNS topic with an SQS queue subscribed to it, in moto: what a trigger's subscriber sees. */
export async function createTopicWithQueue(moto: Moto, name: string): Promise<TopicQueue> {
  const sns = new SNSClient(moto.clientConfig);
  const sqs = new SQSClient(moto.clientConfig);
  const topicArn = (await sns.send(new CreateTopicCommand({ Name: name }))).TopicArn ?? '';
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-queue` }))).QueueUrl ?? '';
  const attributes = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  await sns.send(
    new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: attributes.Attributes?.QueueArn }),
  );
  return {
    topicArn,
    async next(waitSeconds = 2) {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 1,
          WaitTimeSeconds: waitSeconds,
        }),
      );
      const received = out.Messages?.[0];
      if (!received) return undefined;
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: received.ReceiptHandle }));
      const envelope = JSON.parse(received.Body ?? '') as {
        MessageId: string;
        Message: string;
        MessageAttributes?: Record<string, { Value: string }>;
      };
      const attributes = Object.fromEntries(
        Object.entries(envelope.MessageAttributes ?? {}).map(([name, a]) => [name, a.Value]),
      );
      return { messageId: envelope.MessageId, message: envelope.Message, attributes };
    },
  };
}

/** Creates a CloudFormation stack in moto whose outputs are the given literal values. */
export async function createStackWithOutputs(
  moto: Moto,
  stackName: string,
  outputs: Record<string, string>,
): Promise<void> {
  const cloudFormation = new CloudFormationClient(moto.clientConfig);
  const template = {
    Resources: { Placeholder: { Type: 'AWS::CloudFormation::WaitConditionHandle' } },
    Outputs: Object.fromEntries(Object.entries(outputs).map(([key, value]) => [key, { Value: value }])),
  };
  await cloudFormation.send(
    new CreateStackCommand({ StackName: stackName, TemplateBody: JSON.stringify(template) }),
  );
  // moto creates stacks synchronously; the describe makes sure the outputs are there.
  const described = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
  if ((described.Stacks?.[0]?.Outputs ?? []).length !== Object.keys(outputs).length) {
    throw new Error(`stack ${stackName} has not got its outputs`);
  }
}
