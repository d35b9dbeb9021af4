import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoJobTracker } from '../adapters/aws/dynamo-job-tracker.js';
import { EnvironmentError } from '../core/errors.js';
import { quote } from '../core/names.js';
import type { DeployClients, DeployTrackerOptions } from './deploy-tracker.js';
import { AwsServiceError, UsageError } from './errors.js';
import type { CliSettings } from './settings.js';
import { stackOutput } from './stack-output.js';

/** The stack outputs that name the deploy table and the worker's log group (docs/lifecycle.md). */
export const DEPLOY_TABLE_OUTPUT = 'DeployTableName';
export const WORKER_LOG_GROUP_OUTPUT = 'WorkerLogGroupName';

// DynamoDB's and CloudWatch Logs' own naming rules: anything else is refused before a call.
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
const LOG_GROUP_NAME = /^[A-Za-z0-9_./#-]{1,512}$/;

/**
 * The deploy records in AWS for the CLI: the table from `--table`, `IWOMPINAWS_DEPLOY_TABLE` or
 * the stack's `DeployTableName` output; the worker's log group from `IWOMPINAWS_WORKER_LOG_GROUP`
 * or the `WorkerLogGroupName` output, looked up only when a log is read.
 */
export async function createDeployTracker(
  settings: CliSettings,
  clients: DeployClients,
  options: DeployTrackerOptions,
): Promise<DynamoJobTracker> {
  const region = options.region === undefined ? {} : { region: options.region };
  let cloudFormation: CloudFormationClient | undefined = clients.cloudFormation;
  const outputs = () => {
    cloudFormation ??= new CloudFormationClient({});
    return cloudFormation;
  };
  const tableName = await resolveTable(settings, options, outputs);
  return new DynamoJobTracker({
    tableName,
    dynamodb: clients.dynamodb ?? new DynamoDBClient(region),
    // Loaded on first use: `trigger --wait` without --logs never loads the Logs or CodeBuild client.
    workerLog: async () => {
      const groupName = await resolveLogGroup(settings, options, outputs);
      const { BuildLogReader } = await import('../adapters/aws/build-log.js');
      if (clients.logs) return new BuildLogReader(clients.logs, groupName);
      const { CloudWatchLogsClient } = await import('@aws-sdk/client-cloudwatch-logs');
      return new BuildLogReader(new CloudWatchLogsClient(region), groupName);
    },
    codebuild: async () => {
      if (clients.codebuild) return clients.codebuild;
      const { CodeBuildClient } = await import('@aws-sdk/client-codebuild');
      return new CodeBuildClient(region);
    },
  });
}

async function resolveTable(
  settings: CliSettings,
  options: DeployTrackerOptions,
  outputs: () => CloudFormationClient,
): Promise<string> {
  if (options.table !== undefined) {
    if (!TABLE_NAME.test(options.table)) throw new UsageError(`--table: ${notATable(options.table)}`);
    return options.table;
  }
  if (settings.deployTable !== undefined) {
    if (!TABLE_NAME.test(settings.deployTable)) {
      throw new EnvironmentError('IWOMPINAWS_DEPLOY_TABLE', notATable(settings.deployTable));
    }
    return settings.deployTable;
  }
  const value = await stackOutput(
    outputs(),
    options.stackName,
    DEPLOY_TABLE_OUTPUT,
    'give the table with --table or IWOMPINAWS_DEPLOY_TABLE',
    'update the stack (./bin/deploy_infra.sh): deploy records came with it',
  );
  if (!TABLE_NAME.test(value)) {
    throw new AwsServiceError(
      `output ${DEPLOY_TABLE_OUTPUT} of stack '${options.stackName}': ${notATable(value)}`,
    );
  }
  return value;
}

async function resolveLogGroup(
  settings: CliSettings,
  options: DeployTrackerOptions,
  outputs: () => CloudFormationClient,
): Promise<string> {
  if (settings.workerLogGroup !== undefined) {
    if (!LOG_GROUP_NAME.test(settings.workerLogGroup)) {
      throw new EnvironmentError('IWOMPINAWS_WORKER_LOG_GROUP', notALogGroup(settings.workerLogGroup));
    }
    return settings.workerLogGroup;
  }
  const value = await stackOutput(
    outputs(),
    options.stackName,
    WORKER_LOG_GROUP_OUTPUT,
    'give the log group with IWOMPINAWS_WORKER_LOG_GROUP',
  );
  if (!LOG_GROUP_NAME.test(value)) {
    throw new AwsServiceError(
      `output ${WORKER_LOG_GROUP_OUTPUT} of stack '${options.stackName}': ${notALogGroup(value)}`,
    );
  }
  return value;
}

const notATable = (value: string) =>
  `${quote(value)} is not a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)`;
const notALogGroup = (value: string) =>
  `${quote(value)} is not a CloudWatch Logs group name (1-512 of A-Z a-z 0-9 _ . / # -)`;
