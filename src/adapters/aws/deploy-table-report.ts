import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { JobPhase } from '../../core/job-record.js';
import { PK, recordKey, type WORKER_ATTRIBUTES } from './deploy-table.js';

/** What the worker writes to its own record: {@link WORKER_ATTRIBUTES}, no other key (checked below). */
export interface WorkerFields {
  readonly phase?: JobPhase;
  readonly deployedCommit?: string;
  readonly reportedExitCode?: number;
  readonly reportedReason?: string;
}

// Fails to compile if WorkerFields and WORKER_ATTRIBUTES ever name different attributes.
type Assert<T extends true> = T;
type WorkerAttribute = (typeof WORKER_ATTRIBUTES)[number];
export type WorkerFieldsMatchAttributes = Assert<
  [keyof WorkerFields] extends [WorkerAttribute]
    ? [WorkerAttribute] extends [keyof WorkerFields]
      ? true
      : false
    : false
>;

export interface DeployTableReportProps {
  readonly tableName: string;
  readonly triggerId: string;
  /** @default - a client for the environment's region and credentials (CodeBuild's role) */
  readonly dynamodb?: DynamoDBClient;
}

// Short: a report is a courtesy, and a worker waiting on an unreachable table delays its build.
const REQUEST_TIMEOUT_MS = 5_000;
const CONNECTION_TIMEOUT_MS = 2_000;

/**
 * The worker's writes to its deploy record (docs/lifecycle.md, "Who writes what"): one
 * `UpdateItem` per report, of the worker's attributes only, on a record that must already exist
 * (the launcher creates it; a worker must never create one), returning nothing.
 */
export class DeployTableReport {
  private readonly dynamodb: DynamoDBClient;

  constructor(private readonly props: DeployTableReportProps) {
    this.dynamodb =
      props.dynamodb ??
      new DynamoDBClient({
        requestHandler: { requestTimeout: REQUEST_TIMEOUT_MS, connectionTimeout: CONNECTION_TIMEOUT_MS },
      });
  }

  async write(fields: WorkerFields): Promise<void> {
    const set = Object.entries(fields).filter(([, value]) => value !== undefined);
    if (set.length === 0) return;
    const names: Record<string, string> = { '#pk': PK };
    const values: Record<string, unknown> = {};
    const assignments = set.map(([name, value], i) => {
      names[`#a${i}`] = name;
      values[`:v${i}`] = value;
      return `#a${i} = :v${i}`;
    });
    await this.dynamodb.send(
      new UpdateItemCommand({
        TableName: this.props.tableName,
        Key: recordKey(this.props.triggerId),
        UpdateExpression: `SET ${assignments.join(', ')}`,
        ConditionExpression: 'attribute_exists(#pk)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: marshall(values),
        ReturnValues: 'NONE',
      }),
    );
  }

  destroy(): void {
    if (this.props.dynamodb === undefined) this.dynamodb.destroy();
  }
}
