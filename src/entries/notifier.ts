import { Logger } from '@aws-lambda-powertools/logger';
import { SNSClient } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { SnsResultPublisher } from '../adapters/aws/sns-result-publisher.js';
import { parseNotifierEnv } from '../notifier/env.js';
import { handleStreamEvent, type StreamBatchResponse } from '../notifier/handle-stream-event.js';

// Init phase, once per instance: a bad environment fails it with one line naming the variable.
const env = parseNotifierEnv(process.env);
const logger = new Logger({ serviceName: 'iwomp-notifier' });
const results = new SnsResultPublisher({ topicArn: env.resultsTopicArn, sns: new SNSClient({}) });

/**
 * The notifier Lambda: the deploy table's stream in, one message on the results topic per record
 * that reached a final state. See docs/lifecycle.md ("Results").
 */
export async function handler(event: unknown, context?: Context): Promise<StreamBatchResponse> {
  if (context) logger.addContext(context);
  return handleStreamEvent(event, { results, logger });
}
