import { Logger } from '@aws-lambda-powertools/logger';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Context } from 'aws-lambda';
import { CodeBuildJobLauncher } from '../adapters/aws/codebuild-job-launcher.js';
import { SsmRegistry } from '../adapters/aws/ssm-registry.js';
import { parseLauncherEnv } from '../launcher/env.js';
import { handleSnsEvent, type SnsEventSummary } from '../launcher/handle-sns-event.js';

// Module scope runs once per Lambda instance (the init phase): clients and their connections are
// reused by every invocation. A bad environment fails the init with a message naming the variable.
const env = parseLauncherEnv(process.env);
const logger = new Logger({ serviceName: 'iwomp-launcher' });
const deps = {
  registry: new SsmRegistry({ configPath: env.configPath, ssm: new SSMClient({}) }),
  launcher: new CodeBuildJobLauncher({ projectName: env.workerProject, codebuild: new CodeBuildClient({}) }),
  ...(env.topicScopes === undefined ? {} : { topicScopes: env.topicScopes }),
  logger,
};

/** The launcher Lambda, subscribed to the trigger topic. See docs/launcher.md. */
export async function handler(event: unknown, context?: Context): Promise<SnsEventSummary> {
  if (context) logger.addContext(context);
  return handleSnsEvent(event, deps);
}
