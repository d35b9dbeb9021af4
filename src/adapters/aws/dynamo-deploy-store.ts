import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandOutput,
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { DeployRecord } from '../../core/deploy-record.js';
import { IwompError } from '../../core/errors.js';
import { isFinished } from '../../core/job-record.js';
import type { DeployStore, LaneChange, RecordMove, StoredLaneState } from '../../ports/deploy-store.js';
import { DeployServiceError } from './deploy-errors.js';
import {
  ACTIVE,
  ACTIVE_LANE,
  ACTIVE_LANES_INDEX,
  expiresAtFor,
  type Item,
  itemToLane,
  itemToRecord,
  laneCondition,
  laneKey,
  laneProject,
  laneToItem,
  PK,
  recordKey,
  recordToItem,
  recordUpdate,
} from './deploy-table.js';
import { sdkErrorText, sdkFailure } from './sdk-error.js';

/** Days a record is kept before DynamoDB's TTL removes it (`IWOMP_RETENTION_DAYS`). */
export const DEFAULT_RETENTION_DAYS = 90;

export interface DynamoDeployStoreProps {
  /** The deploy table (`IWOMP_DEPLOY_TABLE`). */
  readonly tableName: string;
  /** @default - a client from the SDK's default chain */
  readonly dynamodb?: DynamoDBClient;
  /** @default 90 */
  readonly retentionDays?: number;
  /**
   * How many times a lane change is decided again after another writer changed the lane first.
   * Each conflict means another launcher's change went through, so this bounds the launchers
   * deciding on one project at the same moment, not the time waited.
   * @default 64
   */
  readonly maxAttempts?: number;
}

/** Deploy records and project lanes in the deploy table (docs/lifecycle.md, "The table"). */
export class DynamoDeployStore implements DeployStore {
  private readonly dynamodb: DynamoDBClient;
  private readonly table: string;
  private readonly retentionDays: number;
  private readonly maxAttempts: number;

  constructor(props: DynamoDeployStoreProps) {
    this.dynamodb = props.dynamodb ?? new DynamoDBClient({});
    this.table = props.tableName;
    this.retentionDays = props.retentionDays ?? DEFAULT_RETENTION_DAYS;
    this.maxAttempts = props.maxAttempts ?? 64;
  }

  async create(record: DeployRecord): Promise<{ created: boolean; record: DeployRecord }> {
    try {
      await this.dynamodb.send(
        new PutItemCommand({
          TableName: this.table,
          Item: recordToItem(record, expiresAtFor(record.createdAt, this.retentionDays)),
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PK },
        }),
      );
      return { created: true, record };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw storeError('create a record', error);
    }
    const existing = await this.get(record.id);
    // Deleted between the two calls only by the TTL, days later: not a case worth a loop.
    if (existing === undefined) throw new DeployServiceError(`record ${record.id} exists but cannot be read`);
    return { created: false, record: existing };
  }

  async get(id: string): Promise<DeployRecord | undefined> {
    const item = await this.getItem(recordKey(id), 'read a record');
    return item === undefined ? undefined : itemToRecord(item);
  }

  async move(move: RecordMove): Promise<boolean> {
    try {
      await this.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: recordKey(move.record.id),
          ...recordUpdate(move.record, move.from, isFinished(move.record.state)),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw storeError('update a record', error);
    }
  }

  async readLane(project: string): Promise<StoredLaneState> {
    return itemToLane(await this.getItem(laneKey(project), 'read a lane'));
  }

  async changeLane<T>(
    project: string,
    decide: (stored: StoredLaneState) => Promise<LaneChange<T>>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const stored = await this.readLane(project);
      const change = await decide(stored);
      const items = this.transactItems(project, stored, change);
      if (items.length === 0) return change.result;
      try {
        await this.dynamodb.send(new TransactWriteItemsCommand({ TransactItems: items }));
        return change.result;
      } catch (error) {
        if (!lostRace(error)) throw storeError(`change the lane of ${project}`, error);
        if (attempt >= this.maxAttempts) {
          throw new DeployServiceError(
            `the lane of ${project} kept changing under the launcher (${attempt} attempts), retry later`,
            { cause: error },
          );
        }
        // Someone else's change went through: read it and decide again, after a short random
        // pause so that launchers that collided do not collide again in step.
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 5 * attempt)));
      }
    }
  }

  async listLanes(): Promise<Array<{ project: string; stored: StoredLaneState }>> {
    const lanes: Array<{ project: string; stored: StoredLaneState }> = [];
    let start: Item | undefined;
    do {
      let out: QueryCommandOutput;
      try {
        out = await this.dynamodb.send(
          // The sparse index holds only lanes with a holder or waiting triggers. It is eventually
          // consistent: a lane read a moment stale is decided on again, conditionally on its
          // version, like any other lane change.
          new QueryCommand({
            TableName: this.table,
            IndexName: ACTIVE_LANES_INDEX,
            KeyConditionExpression: '#active = :lane',
            ExpressionAttributeNames: { '#active': ACTIVE },
            ExpressionAttributeValues: { ':lane': { S: ACTIVE_LANE } },
            ...(start === undefined ? {} : { ExclusiveStartKey: start }),
          }),
        );
      } catch (error) {
        throw storeError('list the lanes', error);
      }
      for (const item of out.Items ?? [])
        lanes.push({ project: laneProject(item), stored: itemToLane(item) });
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
    return lanes;
  }

  private transactItems<T>(
    project: string,
    stored: StoredLaneState,
    change: LaneChange<T>,
  ): TransactWriteItem[] {
    const moves = change.moves ?? [];
    if (change.lane === undefined && moves.length === 0) return [];
    const condition = laneCondition(stored.version);
    const lane: TransactWriteItem =
      change.lane === undefined
        ? { ConditionCheck: { TableName: this.table, Key: laneKey(project), ...condition } }
        : {
            Put: {
              TableName: this.table,
              Item: laneToItem(project, { ...change.lane, version: stored.version + 1 }),
              ...condition,
            },
          };
    return [
      lane,
      ...moves.map(
        (move): TransactWriteItem => ({
          Update: {
            TableName: this.table,
            Key: recordKey(move.record.id),
            ...recordUpdate(move.record, move.from, isFinished(move.record.state)),
          },
        }),
      ),
    ];
  }

  private async getItem(key: Item, what: string): Promise<Item | undefined> {
    try {
      const out = await this.dynamodb.send(
        new GetItemCommand({ TableName: this.table, Key: key, ConsistentRead: true }),
      );
      return out.Item;
    } catch (error) {
      throw storeError(what, error);
    }
  }
}

/**
 * A transaction cancelled because a condition no longer held (another launcher wrote first) or
 * because another transaction was writing the same items: both mean "read again and decide again".
 */
function lostRace(error: unknown): boolean {
  if (!(error instanceof TransactionCanceledException)) return false;
  const reasons = error.CancellationReasons ?? [];
  return (
    reasons.length === 0 ||
    reasons.every(
      (r) =>
        r.Code === undefined || ['None', 'ConditionalCheckFailed', 'TransactionConflict'].includes(r.Code),
    )
  );
}

// A missing table or a malformed request: a person must fix the deployment, as for access denied.
const TABLE_NEEDS_A_FIX: ReadonlySet<string> = new Set(['ResourceNotFoundException', 'ValidationException']);

function storeError(what: string, error: unknown): IwompError {
  // Already one line with its category (no credentials in the environment, say): kept as it is.
  if (error instanceof IwompError) return error;
  return new DeployServiceError(`cannot ${what} in the deploy table (${sdkErrorText(error)})`, {
    cause: error,
    category: sdkFailure(error, TABLE_NEEDS_A_FIX),
  });
}
