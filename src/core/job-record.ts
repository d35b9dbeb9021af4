import { InternalError } from './errors.js';
import { ExitCode } from './exit-codes.js';

/**
 * A deploy job's record and the rules for moving it from one state to the next: one pure state
 * machine for every place that keeps records (local mode's job store today, a table in AWS next).
 *
 * ```
 * received ─► rejected
 *    │
 *    ▼
 *  queued ──► started ──► running(clone → command) ──► succeeded | failed | superseded
 *    │           │            │
 *    └───────────┴────────────┴──► cancelled, failed (the job could not go on)
 *    └──► superseded (a newer trigger replaced it while it waited)
 * ```
 *
 * `received` and `rejected` are for stores that record a trigger before it is checked; local mode
 * creates a record only for an accepted trigger, in `queued`, and goes straight to `running`
 * (it has no separate start step to wait for).
 */
export const JOB_STATES = [
  'received',
  'rejected',
  'queued',
  'started',
  'running',
  'succeeded',
  'failed',
  'superseded',
  'cancelled',
] as const;
export type JobState = (typeof JOB_STATES)[number];

/** What a running job is doing, as the worker reports it. */
export const JOB_PHASES = ['clone', 'command'] as const;
export type JobPhase = (typeof JOB_PHASES)[number];

const FINAL: ReadonlySet<JobState> = new Set(['rejected', 'succeeded', 'failed', 'superseded', 'cancelled']);

/** Whether a job has ended: no transition leaves these states. */
export function isFinished(state: JobState): boolean {
  return FINAL.has(state);
}

const NEXT: Readonly<Record<JobState, readonly JobState[]>> = {
  received: ['rejected', 'queued'],
  queued: ['started', 'running', 'superseded', 'cancelled', 'failed'],
  started: ['running', 'succeeded', 'failed', 'superseded', 'cancelled'],
  running: ['succeeded', 'failed', 'superseded', 'cancelled'],
  rejected: [],
  succeeded: [],
  failed: [],
  superseded: [],
  cancelled: [],
};

/** Whether the state machine allows going from `from` to `to`. */
export function canTransition(from: JobState, to: JobState): boolean {
  return NEXT[from].includes(to);
}

/** A deploy job's record: what every record store keeps, whatever else it adds. */
export interface JobRecord {
  readonly version: 1;
  readonly id: string;
  readonly project: string;
  readonly branch: string;
  readonly commit?: string;
  readonly state: JobState;
  /** While `running`: the step the worker reported last. */
  readonly phase?: JobPhase;
  /** The worker's exit code (see exit-codes.ts), once finished. */
  readonly exitCode?: number;
  /** One line saying why a job did not succeed: the worker's own reason, or the runner's. */
  readonly error?: string;
  /** ISO timestamps. */
  readonly createdAt: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
}

/**
 * The end state a worker's exit code means: 0 `succeeded`, 84 `superseded` (the branch moved
 * past the commit CI tested, nothing ran), anything else `failed`.
 */
export function stateForExitCode(exitCode: number): 'succeeded' | 'failed' | 'superseded' {
  if (exitCode === ExitCode.ok) return 'succeeded';
  if (exitCode === ExitCode.superseded) return 'superseded';
  return 'failed';
}

/** A received trigger was refused (bad message, unknown project, branch not allowed): `rejected`. */
export function markRejected<R extends JobRecord>(record: R, reason: string, at: Date): R {
  return ended(record, 'rejected', at, { error: reason });
}

/** A received trigger was accepted and joined its project's lane: `queued`. */
export function markQueued<R extends JobRecord>(record: R): R {
  return moved(record, 'queued');
}

/**
 * The job's host accepted it (CodeBuild returned a build id): `started`, until the worker runs.
 * Recorded again with the same id (a retried start) it changes nothing.
 */
export function markStarted<R extends JobRecord>(record: R, at: Date): R {
  if (record.state === 'started') return record;
  return { ...moved(record, 'started'), startedAt: at.toISOString() };
}

/** A newer trigger of the same branch took this waiting one's place: `superseded`, never started. */
export function markSuperseded<R extends JobRecord>(record: R, byId: string, at: Date): R {
  return ended(record, 'superseded', at, {
    error: `superseded by ${byId}, a newer trigger of the same branch`,
  });
}

/** The worker started: `running`, in its first step. */
export function markRunning<R extends JobRecord>(record: R, at: Date): R {
  return { ...moved(record, 'running'), phase: 'clone', startedAt: record.startedAt ?? at.toISOString() };
}

/** The worker reported its next step. A finished or not-yet-running job keeps its record. */
export function markPhase<R extends JobRecord>(record: R, phase: JobPhase): R {
  if (record.state !== 'running' || record.phase === phase) return record;
  return { ...record, phase };
}

/** The worker ended with `exitCode`; `error` is its one-line reason when it did not succeed. */
export function markFinished<R extends JobRecord>(
  record: R,
  result: { readonly exitCode: number; readonly error?: string },
  at: Date,
): R {
  const state = stateForExitCode(result.exitCode);
  return ended(record, state, at, {
    exitCode: result.exitCode,
    ...(result.exitCode !== ExitCode.ok && result.error !== undefined ? { error: result.error } : {}),
    // A job that ended before it was seen running (a very short one) still gets a start time.
    ...(record.startedAt === undefined ? { startedAt: at.toISOString() } : {}),
  });
}

/**
 * The job cannot go on for a reason outside the worker (its runner died, its process could not
 * start): `failed`, with the worker's "internal" code and the reason.
 */
export function markFailed<R extends JobRecord>(record: R, reason: string, at: Date): R {
  return ended(record, 'failed', at, { exitCode: ExitCode.internal, error: reason });
}

/**
 * The job ended with the outcome its host decided (core/deploy-record.ts `finalOutcome`): the
 * general form of {@link markFinished}, for a state that no exit code alone says.
 */
export function markEnded<R extends JobRecord>(
  record: R,
  outcome: { readonly state: JobState; readonly exitCode?: number; readonly reason?: string },
  at: Date,
): R {
  if (!isFinished(outcome.state) || outcome.state === 'rejected') {
    throw new InternalError(`a job cannot end as ${outcome.state}`);
  }
  return ended(record, outcome.state, at, {
    ...(outcome.exitCode === undefined ? {} : { exitCode: outcome.exitCode }),
    ...(outcome.state !== 'succeeded' && outcome.reason !== undefined ? { error: outcome.reason } : {}),
    ...(record.startedAt === undefined && outcome.state !== 'superseded' && outcome.state !== 'cancelled'
      ? { startedAt: at.toISOString() }
      : {}),
  });
}

/** Someone stopped the job (`jobs cancel`): `cancelled`, with the reason. */
export function markCancelled<R extends JobRecord>(record: R, reason: string, at: Date): R {
  return ended(record, 'cancelled', at, { error: reason });
}

function ended<R extends JobRecord>(
  record: R,
  state: JobState,
  at: Date,
  fields: { exitCode?: number; error?: string; startedAt?: string },
): R {
  const { phase: _phase, exitCode: _exit, error: _error, ...rest } = moved(record, state);
  return { ...rest, ...fields, finishedAt: at.toISOString() } as R;
}

function moved<R extends JobRecord>(record: R, state: JobState): R {
  if (!canTransition(record.state, state)) {
    throw new InternalError(`job ${record.id} cannot go from ${record.state} to ${state}`);
  }
  return { ...record, state };
}

/** A job's time from creation (queue time included) to its end, or to `now` while it goes on. */
export function jobElapsedMs(record: JobRecord, now: number): number {
  const end = record.finishedAt === undefined ? now : Date.parse(record.finishedAt);
  return Math.max(0, end - Date.parse(record.createdAt));
}
