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

export const recordKey = (id: string): Item => ({ [PK]: { S: `deploy#${id}` } });
export const laneKey = (project: string): Item => ({ [PK]: { S: `lane#${project}` } });

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

export function laneToItem(project: string, stored: StoredLane): Item {
  return {
    ...laneKey(project),
    ...marshall(
      {
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
