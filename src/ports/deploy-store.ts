import type { Lane } from '../core/deploy-lane.js';
import type { DeployRecord } from '../core/deploy-record.js';
import type { JobState } from '../core/job-record.js';

/**
 * Where deploy records and project lanes are kept (AWS: the deploy table). Every write is
 * conditional on what the writer read, so two launchers acting on one trigger or one lane at once
 * cannot both win: the loser learns it and decides again from what is there now.
 */
export interface DeployStore {
  /**
   * Creates a record, only if no record of its id exists. A redelivered trigger finds the record
   * of its first delivery (`created: false`) and carries on from there, at any later time.
   */
  create(record: DeployRecord): Promise<{ readonly created: boolean; readonly record: DeployRecord }>;
  /** The record as it is now (a strongly consistent read), or undefined. */
  get(id: string): Promise<DeployRecord | undefined>;
  /**
   * Writes `move.record` only if the stored record is still in `move.from`. False when it was not
   * (someone else moved it first). Never writes what the worker reports about itself.
   */
  move(move: RecordMove): Promise<boolean>;
  /** A project's lane as stored now. */
  readLane(project: string): Promise<StoredLaneState>;
  /**
   * Reads the project's lane, asks `decide` what to write, and writes the new lane and the records
   * it moves together, all or nothing: the lane only if it is still the version read, each record
   * only if it is still in its `from` state. When another writer got there first, reads and asks
   * again (a few times, then throws a transient error). `decide` may be called more than once and
   * must only read; its `result` is returned once its change is written.
   */
  changeLane<T>(project: string, decide: (stored: StoredLaneState) => Promise<LaneChange<T>>): Promise<T>;
  /** Every project lane (the reconcile's view). */
  listLanes(): Promise<ReadonlyArray<{ readonly project: string; readonly stored: StoredLaneState }>>;
}

/** A record moved from one state to the next, conditioned on `from`. */
export interface RecordMove {
  readonly from: JobState;
  readonly record: DeployRecord;
}

/** A lane as stored, with what the conditional write compares. */
export interface StoredLaneState {
  readonly lane: Lane;
  /** The holder's build, once StartBuild returned it. */
  readonly holderBuildId?: string;
  /** Epoch seconds: until then, a holder without a build id is being started by someone. */
  readonly leaseUntil?: number;
  /** 0 when the project has no lane item yet. */
  readonly version: number;
}

/**
 * What one lane decision writes, and what it hands back to the caller once written. Without
 * `lane` the lane is not rewritten but must still be the version read; with neither `lane` nor
 * `moves`, nothing is written.
 */
export interface LaneChange<T> {
  readonly lane?: Omit<StoredLaneState, 'version'>;
  readonly moves?: readonly RecordMove[];
  readonly result: T;
}
