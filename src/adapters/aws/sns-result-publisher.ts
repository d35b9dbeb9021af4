import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { DeployResult } from '../../core/deploy-record.js';
import type { ResultPublisher } from '../../ports/result-publisher.js';

export interface SnsResultPublisherProps {
  /** The results topic (`IWOMP_RESULTS_TOPIC_ARN`). */
  readonly topicArn: string;
  /** @default - a client from the SDK's default chain */
  readonly sns?: SNSClient;
}

/** Publishes each final result as one JSON message on the results topic (docs/lifecycle.md). */
export class SnsResultPublisher implements ResultPublisher {
  private readonly sns: SNSClient;
  private readonly topicArn: string;

  constructor(props: SnsResultPublisherProps) {
    this.sns = props.sns ?? new SNSClient({});
    this.topicArn = props.topicArn;
  }

  async publish(result: DeployResult): Promise<void> {
    await this.sns.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Message: JSON.stringify(result),
        // Subscribers filter on these without parsing the body (an email for failures only, say).
        MessageAttributes: {
          project: { DataType: 'String', StringValue: result.project },
          state: { DataType: 'String', StringValue: result.state },
        },
      }),
    );
  }
}
