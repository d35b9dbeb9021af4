import { setTimeout as sleep } from 'node:timers/promises';
import type { CodeBuildClient } from '@aws-sdk/client-codebuild';
import {
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  type QueryCommandOutput,
  ScanCommand,
  type ScanCommandOutput,
} from '@aws-sdk/client-dynamodb';
import type { DeployRecord } from '../../core/deploy-record.js';
import { InvalidInputError } from '../../core/errors.js';
import { isFinished, jobElapsedMs } from '../../core/job-record.js';
import { quote } from '../../core/names.js';
import type { BrokenRecord, FollowHooks, JobTracker } from '../../ports/job-tracker.js';
import type { BuildLogReader, LogCursor } from './build-log.js';
import { DeployNotFoundError, deployServiceError } from './deploy-errors.js';
import {
  BY_PROJECT_INDEX,
  BY_PROJECT_KEY,
  type Item,
  itemToRecord,
  PK,
  RECORD_KEY_PREFIX,
  recordKey,
} from './deploy-table.js';

export interface DynamoJobTrackerProps {
  /** The deploy table (stack output `DeployTableName`). */
  readonly tableName: string;
  readonly dynamodb: DynamoDBClient;
  /**
   * The worker's log, for `readLog` and for `follow` with `onOutput`. Called on first use only: a
   * caller allowed to read records alone (`grantWatch` without logs) never needs the log group.
   */
  readonly workerLog: () => Promise<BuildLogReader>;
  /** CodeBuild, for `cancel` (StopBuild). Called on first use only. */
  readonly codebuild: () => Promise<CodeBuildClient>;
  /**
   * `follow` reads the record every `pollMs` (the hook's, default 200 ms) after a change, slowing
   * down by half again per unchanged read up to this.
   * @default 1000
   */
  readonly maxPollMs?: number;
  /**
   * How often the worker's log is read while a deploy is followed with `onOutput`.
   * @default 1000
   */
  readonly logPollMs?: number;
  /**
   * How long `cancel` waits for the stopped build's record to close (the launcher records it
   * when CodeBuild's state-change event arrives).
   * @default 120000
   */
  readonly cancelWaitMs?: number;
}

/** A deploy id as the CLI accepts it: an SNS MessageId is a UUID; nothing else reaches a key. */
const DEPLOY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Checks a deploy id given by a user. */
export function parseDeployId(value: string): string {
  if (!DEPLOY_ID.test(value)) throw new InvalidInputError('value', `invalid deploy id ${quote(value)}`);
  return value;
}

const DEFAULT_POLL_MS = 200;

/**
 * Deploy records in AWS: the deploy table (docs/lifecycle.md, "The table") read with GetItem,
 * Query on the `byProject` index or Scan, and the worker's CloudWatch log. Only reads, except
 * `cancel`, which asks CodeBuild to stop the build: the launcher, told by CodeBuild's state-change
 * event, records the outcome. The CLI writes nothing to the table.
 */
export class DynamoJobTracker implements JobTracker<DeployRecord> {
  readonly location: string;
  /** The log links of the records read so far, for `logLocation`. */
  private readonly logUrls = new Map<string, string>();

  constructor(private readonly props: DynamoJobTrackerProps) {
    this.location = `table ${props.tableName}`;
  }

  async get(id: string): Promise<DeployRecord> {
    const record = await this.find(parseDeployId(id));
    if (record === undefined) {
      throw new DeployNotFoundError(
        `no deploy '${id}' in table ${this.props.tableName} (see: iwomp deploys list)`,
      );
    }
    return record;
  }

  /**
   * Checks that the table can be read, before a trigger is published for `--wait`: a wrong
   * table name or a missing permission is said before anything is sent. Reads a key no trigger
   * has (`deploy#-`), which `grantWatch` allows as it allows every `deploy#` key.
   */
  async check(): Promise<void> {
    try {
      await this.props.dynamodb.send(
        new GetItemCommand({ TableName: this.props.tableName, Key: recordKey('-') }),
      );
    } catch (error) {
      throw deployServiceError(`cannot read the deploy table ${this.props.tableName}`, error);
    }
  }

  /** The record, or undefined when the table holds none (yet) for this id. */
  async find(id: string): Promise<DeployRecord | undefined> {
    let item: Item | undefined;
    try {
      const out = await this.props.dynamodb.send(
        // Strongly consistent: a follower sees a close as soon as it is written.
        new GetItemCommand({ TableName: this.props.tableName, Key: recordKey(id), ConsistentRead: true }),
      );
      item = out.Item;
    } catch (error) {
      throw deployServiceError(`cannot read deploy '${id}' from table ${this.props.tableName}`, error);
    }
    return item === undefined ? undefined : this.remember(itemToRecord(item));
  }

  async list(
    filter: { readonly project?: string; readonly limit?: number } = {},
  ): Promise<{ jobs: DeployRecord[]; broken: BrokenRecord[] }> {
    const items =
      filter.project === undefined
        ? await this.scanRecords()
        : await this.queryProject(filter.project, filter.limit);
    const jobs: DeployRecord[] = [];
    const broken: BrokenRecord[] = [];
    for (const item of items) {
      try {
        jobs.push(this.remember(itemToRecord(item)));
      } catch (error) {
        // One damaged item is reported, not allowed to hide every other record.
        broken.push({ file: item[PK]?.S ?? '(no key)', problem: (error as Error).message });
      }
    }
    // ISO 8601 UTC timestamps sort as strings; the index returns them sorted already.
    jobs.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
    return { jobs: jobs.slice(0, filter.limit), broken };
  }

  /** One project's records, newest first, from the `byProject` index: reads no more than it shows. */
  private async queryProject(project: string, limit: number | undefined): Promise<Item[]> {
    const items: Item[] = [];
    let start: QueryCommandOutput['LastEvaluatedKey'];
    do {
      let out: QueryCommandOutput;
      try {
        out = await this.props.dynamodb.send(
          new QueryCommand({
            TableName: this.props.tableName,
            IndexName: BY_PROJECT_INDEX,
            KeyConditionExpression: '#project = :project',
            ExpressionAttributeNames: { '#project': BY_PROJECT_KEY },
            ExpressionAttributeValues: { ':project': { S: project } },
            ScanIndexForward: false,
            ...(limit === undefined ? {} : { Limit: limit - items.length }),
            ...(start === undefined ? {} : { ExclusiveStartKey: start }),
          }),
        );
      } catch (error) {
        throw deployServiceError(
          `cannot list the deploys of '${project}' in table ${this.props.tableName}`,
          error,
        );
      }
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start !== undefined && (limit === undefined || items.length < limit));
    return items;
  }

  /**
   * Every record in the table: a Scan has no order, so all of them are read and sorted here. The
   * table holds the records of the retention period (TTL), lanes aside.
   */
  private async scanRecords(): Promise<Item[]> {
    const items: Item[] = [];
    let start: ScanCommandOutput['LastEvaluatedKey'];
    do {
      let out: ScanCommandOutput;
      try {
        out = await this.props.dynamodb.send(
          new ScanCommand({
            TableName: this.props.tableName,
            FilterExpression: 'begins_with(#pk, :prefix)',
            ExpressionAttributeNames: { '#pk': PK },
            ExpressionAttributeValues: { ':prefix': { S: RECORD_KEY_PREFIX } },
            ...(start === undefined ? {} : { ExclusiveStartKey: start }),
          }),
        );
      } catch (error) {
        throw deployServiceError(`cannot list the deploys in table ${this.props.tableName}`, error);
      }
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
    return items;
  }

  async readLog(id: string): Promise<string> {
    const record = await this.get(id);
    if (record.buildId === undefined) return '';
    const reader = await this.logReader();
    return (await reader.readFrom(record.buildId, undefined)).text;
  }

  /**
   * The record's log link (the CodeBuild console's build page) as the last read of it said;
   * empty while there is none (the build has not started).
   */
  logLocation(id: string): string {
    return this.logUrls.get(id) ?? '';
  }

  async follow(id: string, hooks: FollowHooks<DeployRecord> = {}): Promise<DeployRecord> {
    const firstPollMs = hooks.pollMs ?? DEFAULT_POLL_MS;
    const maxPollMs = Math.max(firstPollMs, this.props.maxPollMs ?? 1000);
    const logPollMs = this.props.logPollMs ?? 1000;
    let pollMs = firstPollMs;
    let lastKey = '';
    let lastProgressAt = 0;
    let cursor: LogCursor;
    let lastLogReadAt = Number.NEGATIVE_INFINITY;
    let reader: BuildLogReader | undefined;
    const drainLog = async (record: DeployRecord) => {
      if (hooks.onOutput === undefined || record.buildId === undefined) return;
      reader ??= await this.logReader();
      const read = await reader.readFrom(record.buildId, cursor);
      cursor = read.cursor;
      lastLogReadAt = Date.now();
      if (read.text !== '') hooks.onOutput(read.text);
    };
    for (;;) {
      const record = await this.get(id);
      const finished = isFinished(record.state);
      // The log is read about once a second, and once more at the end for its last lines.
      if (finished || Date.now() - lastLogReadAt >= logPollMs) await drainLog(record);
      const now = Date.now();
      const key = `${record.state}/${record.phase ?? ''}/${record.buildId ?? ''}`;
      const changed = key !== lastKey;
      if (changed || now - lastProgressAt >= 1000 || finished) {
        lastKey = key;
        lastProgressAt = now;
        hooks.onProgress?.({ record, elapsedMs: jobElapsedMs(record, now) });
      }
      if (finished || hooks.signal?.aborted) return record;
      // Quick after a change (the next one often follows: started → running → clone), gently
      // slower while nothing moves, never slower than maxPollMs: a close is seen within it.
      pollMs = changed ? firstPollMs : Math.min(maxPollMs, Math.round(pollMs * 1.5));
      try {
        await sleep(pollMs, undefined, hooks.signal ? { signal: hooks.signal } : {});
      } catch {
        // Aborted: one last read above tells the caller where the deploy stands.
      }
    }
  }

  /**
   * Stops a deploy whose build runs (CodeBuild StopBuild), then waits until the launcher has
   * recorded how it ended. A deploy still waiting for its lane is the launcher's to move: the CLI
   * has no write access to the lane, so it says so instead.
   */
  async cancel(id: string, _reason: string): Promise<DeployRecord> {
    const record = await this.get(id);
    if (isFinished(record.state)) return record;
    if (record.buildId === undefined) {
      throw new InvalidInputError(
        'value',
        `deploy ${id} is ${record.state}: a deploy that has not started cannot be cancelled from the CLI in AWS yet; a newer trigger of its branch supersedes it`,
      );
    }
    const codebuild = await this.props.codebuild();
    const { StopBuildCommand } = await import('@aws-sdk/client-codebuild');
    try {
      await codebuild.send(new StopBuildCommand({ id: record.buildId }));
    } catch (error) {
      throw deployServiceError(`cannot stop build ${record.buildId} of deploy ${id}`, error);
    }
    // The state-change event reaches the launcher within seconds; past the wait, the record is
    // returned as it stands (still running) and the caller says the stop was asked for.
    return this.follow(id, { signal: AbortSignal.timeout(this.props.cancelWaitMs ?? 120_000) });
  }

  private logReader(): Promise<BuildLogReader> {
    return this.props.workerLog();
  }

  private remember(record: DeployRecord): DeployRecord {
    if (record.logUrl !== undefined) this.logUrls.set(record.id, record.logUrl);
    return record;
  }
}
