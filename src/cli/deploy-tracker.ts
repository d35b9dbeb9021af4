import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { CodeBuildClient } from '@aws-sdk/client-codebuild';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DeployRecord } from '../core/deploy-record.js';
import type { JobTracker } from '../ports/job-tracker.js';

// What the AWS trigger, the backend and the deploy-table wiring (aws-deploys.ts) share, in a module
// of its own: none of them imports another, and aws-deploys.ts is loaded only when used.

/** Where the deploy records are read in AWS. */
export interface DeployTrackerOptions {
  /** `--table`. */
  readonly table?: string;
  /** `--stack-name`: whose outputs name the table and the log group. */
  readonly stackName: string;
  /**
   * Where the table is: the topic's region for `trigger --wait` (one stack holds both).
   * @default - the SDK's default chain
   */
  readonly region?: string;
}

/** The SDK clients the deploy records are read with; each defaults to one from the SDK's chain. */
export interface DeployClients {
  readonly cloudFormation?: CloudFormationClient;
  readonly dynamodb?: DynamoDBClient;
  readonly logs?: CloudWatchLogsClient;
  readonly codebuild?: CodeBuildClient;
}

/** The deploy records `--wait` follows, and a check that they can be read at all. */
export interface DeployTracker extends JobTracker<DeployRecord> {
  check(): Promise<void>;
}
