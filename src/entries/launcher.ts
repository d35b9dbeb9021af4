import { Logger } from '@aws-lambda-powertools/logger';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Context } from 'aws-lambda';
import { CodeBuildJobLauncher } from '../adapters/aws/codebuild-job-launcher.js';
import { DynamoDeployStore } from '../adapters/aws/dynamo-deploy-store.js';
import { SsmRegistry } from '../adapters/aws/ssm-registry.js';
import { parseLauncherEnv } from '../launcher/env.js';
import { type BuildEventOutcome, handleBuildEvent } from '../launcher/handle-build-event.js';
import { handleSnsEvent, type SnsEventSummary } from '../launcher/handle-sns-event.js';
import { type ReconcileSummary, reconcile } from '../launcher/reconcile.js';
import { routeEvent } from '../launcher/route-event.js';

// Module scope runs once per Lambda instance (the init phase): clients and their connections are
// reused by every invocation. A bad environment fails the init with a message naming the variable.
const env = parseLauncherEnv(process.env);
const logger = new Logger({ serviceName: 'iwomp-launcher' });
const launcher = new CodeBuildJobLauncher({
  projectName: env.workerProject,
  codebuild: new CodeBuildClient({}),
});
const deps = {
  registry: new SsmRegistry({ configPath: env.configPath, ssm: new SSMClient({}) }),
  launcher,
  statuses: launcher,
  store: new DynamoDeployStore({
    tableName: env.deployTable,
    dynamodb: new DynamoDBClient({}),
    retentionDays: env.retentionDays,
  }),
  ...(env.topicScopes === undefined ? {} : { topicScopes: env.topicScopes }),
  workerProject: env.workerProject,
  logger,
};

/**
 * The launcher Lambda: triggers from the topic, the worker's build state changes, and the
 * scheduled reconcile, told apart by the event's shape. See docs/launcher.md and docs/lifecycle.md.
 */
export async function handler(
  event: unknown,
  context?: Context,
): Promise<SnsEventSummary | BuildEventOutcome | ReconcileSummary> {
  if (context) logger.addContext(context);
  switch (routeEvent(event)) {
    case 'build-state-change':
      return handleBuildEvent(event, deps);
    case 'scheduled':
      return reconcile(deps);
    default:
      return handleSnsEvent(event, deps);
  }
}
