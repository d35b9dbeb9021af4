import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { Lane, LaneEntry } from '../../core/deploy-lane.js';
import type { DeployRecord } from '../../core/deploy-record.js';
import { InternalError } from '../../core/errors.js';
import { JOB_PHASES, JOB_STATES } from '../../core/job-record.js';

/**
 * The deploy table's item layout (docs/lifecycle.md, "The table"), in one place for every reader
 * and writer: the launcher, the worker's report, the CLI. Nothing else builds a key or names an
 * attribute.
 */
export type Item = Record<string, AttributeValue>;

/** The partition key's name. */
export const PK = 'pk';
/** The index that lists one project's records by creation time. */
export const BY_PROJECT_INDEX = 'byProject';
/** The TTL attribute (epoch seconds). */
export const EXPIRES_AT = 'expiresAt';
/** What a record of a message too malformed to name a project is listed under. */
export const NO_PROJECT = '-';

/** Lane items' key prefix, for the reconcile's scan; the project is what follows it. */
export const LANE_PREFIX = 'lane#';
/** What every deploy record's key starts with (a Scan for records filters on it). */
export const RECORD_KEY_PREFIX = 'deploy#';
/** The partition key of {@link BY_PROJECT_INDEX}: the record's `project`. */
export const BY_PROJECT_KEY = 'project';

export const recordKey = (id: string): Item => ({ [PK]: { S: `${RECORD_KEY_PREFIX}${id}` } });

/** Whether an item's key (a stream record's `Keys`, say) is a deploy record's, not a lane's. */
export const isRecordKey = (keys: Item | undefined): boolean =>
  keys?.[PK]?.S?.startsWith(RECORD_KEY_PREFIX) === true;
export const laneKey = (project: string): Item => ({ [PK]: { S: `${LANE_PREFIX}${project}` } });

/** The attributes the worker may write to its own record (and its IAM policy allows, no more). */
export const WORKER_ATTRIBUTES = ['phase', 'deployedCommit', 'reportedExitCode', 'reportedReason'] as const;

/** A record as an item, with its TTL. */
export function recordToItem(record: DeployRecord, expiresAt?: number): Item {
  return {
    ...recordKey(record.id),
    ...marshall(
      { ...record, ...(expiresAt === undefined ? {} : { [EXPIRES_AT]: expiresAt }) },
      {
        removeUndefinedValues: true,
      },
    ),
  };
}

const STRINGS = ['id', 'project', 'branch', 'createdAt'] as const;
const OPTIONAL_STRINGS = [
  'commit',
  'error',
  'startedAt',
  'finishedAt',
  'buildId',
  'logUrl',
  'deployedCommit',
  'reportedReason',
] as const;
const OPTIONAL_INTEGERS = ['exitCode', 'reportedExitCode'] as const;

/**
 * An item read back as a record. The table is written only by the pipeline, but a record that
 * does not have the shape this version expects is an error naming the field, not a crash later.
 */
export function itemToRecord(item: Item): DeployRecord {
  const raw = unmarshall(item) as Record<string, unknown>;
  const where = `deploy record ${String(raw[PK])}`;
  for (const key of STRINGS)
    if (typeof raw[key] !== 'string') throw new InternalError(`${where}: ${key} is not a string`);
  for (const key of OPTIONAL_STRINGS)
    if (raw[key] !== undefined && typeof raw[key] !== 'string')
      throw new InternalError(`${where}: ${key} is not a string`);
  for (const key of OPTIONAL_INTEGERS)
    if (raw[key] !== undefined && !Number.isInteger(raw[key]))
      throw new InternalError(`${where}: ${key} is not an integer`);
  if (!(JOB_STATES as readonly unknown[]).includes(raw.state))
    throw new InternalError(`${where}: state ${JSON.stringify(raw.state)} is not a job state`);
  if (raw.phase !== undefined && !(JOB_PHASES as readonly unknown[]).includes(raw.phase))
    throw new InternalError(`${where}: phase ${JSON.stringify(raw.phase)} is not a job phase`);
  const { [PK]: _pk, [EXPIRES_AT]: _ttl, ...fields } = raw;
  return { ...(fields as unknown as Omit<DeployRecord, 'version'>), version: 1 };
}

/** A project's lane as stored: the lane and the version a conditional write must match. */
export interface StoredLane {
  readonly lane: Lane;
  readonly holderBuildId?: string;
  /** Epoch seconds after which a holder with no build id may be started again. */
  readonly leaseUntil?: number;
  /** 0 when the item does not exist yet. */
  readonly version: number;
}

/**
 * The sparse index of lanes with work: a lane item carries {@link ACTIVE} only while a trigger
 * holds it or waits in it, so the reconcile reads the lanes it has something to do with (a few),
 * not the whole table (every record kept for the retention) every minute.
 */
export const ACTIVE_LANES_INDEX = 'activeLanes';
export const ACTIVE = 'active';
/** The one value of {@link ACTIVE}: the index's single partition. */
export const ACTIVE_LANE = 'lane';

export function laneToItem(project: string, stored: StoredLane): Item {
  const active = stored.lane.holder !== undefined || stored.lane.waiting.length > 0;
  return {
    ...laneKey(project),
    ...marshall(
      {
        ...(active ? { [ACTIVE]: ACTIVE_LANE } : {}),
        ...(stored.lane.holder === undefined ? {} : { holder: stored.lane.holder }),
        waiting: stored.lane.waiting,
        holderBuildId: stored.holderBuildId,
        leaseUntil: stored.leaseUntil,
        version: stored.version,
      },
      { removeUndefinedValues: true },
    ),
  };
}

export function itemToLane(item: Item | undefined): StoredLane {
  if (item === undefined) return { lane: { waiting: [] }, version: 0 };
  const raw = unmarshall(item) as Record<string, unknown>;
  const entry = (value: unknown): LaneEntry => {
    const e = value as Partial<LaneEntry> | undefined;
    if (typeof e?.id !== 'string' || typeof e.branch !== 'string') {
      throw new InternalError(`lane ${String(raw[PK])}: an entry is not {id, branch}`);
    }
    return { id: e.id, branch: e.branch };
  };
  const waiting = Array.isArray(raw.waiting) ? raw.waiting.map(entry) : [];
  return {
    lane: { ...(raw.holder === undefined ? {} : { holder: entry(raw.holder) }), waiting },
    ...(typeof raw.holderBuildId === 'string' ? { holderBuildId: raw.holderBuildId } : {}),
    ...(typeof raw.leaseUntil === 'number' ? { leaseUntil: raw.leaseUntil } : {}),
    version: typeof raw.version === 'number' ? raw.version : 0,
  };
}

/** The record's state attribute: every launcher write is conditioned on it. */
export const STATE = 'state';
/** The lane's version attribute: every lane write is conditioned on it. */
export const LANE_VERSION = 'version';

/**
 * The record attributes the launcher writes after creating a record. The worker's attributes are
 * not among them, so a launcher write never undoes what the worker reported meanwhile; the key
 * fields (`id`, `project`, `createdAt`) never change.
 */
const LAUNCHER_ATTRIBUTES = [
  'branch',
  'commit',
  STATE,
  'exitCode',
  'error',
  'startedAt',
  'finishedAt',
  'buildId',
  'logUrl',
] as const;

/** An UpdateItem's expression parts (names and values are placeholders, never inlined). */
export interface UpdateParts {
  readonly UpdateExpression: string;
  readonly ConditionExpression: string;
  readonly ExpressionAttributeNames: Record<string, string>;
  readonly ExpressionAttributeValues: Item;
}

/**
 * The update that moves a stored record to `record`, only if it is still in state `from`: every
 * launcher attribute set or removed as `record` has it. `phase` is the worker's to move on: the
 * launcher only puts the first one (`running` seen before the worker's report) and removes it
 * when the record ends.
 */
export function recordUpdate(record: DeployRecord, from: string, finished: boolean): UpdateParts {
  const names: Record<string, string> = { '#state': STATE };
  const values: Item = { ':from': { S: from } };
  const set: string[] = [];
  const remove: string[] = [];
  LAUNCHER_ATTRIBUTES.forEach((name, i) => {
    names[`#a${i}`] = name;
    const value = (record as unknown as Record<string, unknown>)[name];
    if (value === undefined) remove.push(`#a${i}`);
    else {
      values[`:a${i}`] = marshall({ v: value }).v as AttributeValue;
      set.push(`#a${i} = :a${i}`);
    }
  });
  if (finished) {
    names['#phase'] = 'phase';
    remove.push('#phase');
  } else if (record.phase !== undefined) {
    names['#phase'] = 'phase';
    values[':phase'] = { S: record.phase };
    set.push('#phase = if_not_exists(#phase, :phase)');
  }
  const clauses = [`SET ${set.join(', ')}`, ...(remove.length === 0 ? [] : [`REMOVE ${remove.join(', ')}`])];
  return {
    UpdateExpression: clauses.join(' '),
    ConditionExpression: '#state = :from',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/** The condition a lane write needs: still the version read (or still absent, for version 0). */
export function laneCondition(version: number): {
  readonly ConditionExpression: string;
  readonly ExpressionAttributeNames: Record<string, string>;
  readonly ExpressionAttributeValues?: Item;
} {
  if (version === 0) {
    return { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': PK } };
  }
  return {
    ConditionExpression: '#version = :version',
    ExpressionAttributeNames: { '#version': LANE_VERSION },
    ExpressionAttributeValues: { ':version': { N: String(version) } },
  };
}

/** The project a lane item is for. */
export function laneProject(item: Item): string {
  const pk = item[PK]?.S ?? '';
  return pk.startsWith(LANE_PREFIX) ? pk.slice(LANE_PREFIX.length) : pk;
}

/** A record's expiry (TTL, epoch seconds): its creation plus the retention. */
export function expiresAtFor(createdAt: string, retentionDays: number): number {
  return Math.floor(Date.parse(createdAt) / 1000) + retentionDays * 86_400;
}
