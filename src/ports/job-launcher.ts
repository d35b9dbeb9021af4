import type { BuildStatus } from '../core/deploy-record.js';
import { type IwompErrorOptions, JobStartError } from '../core/errors.js';

/** One deploy job to start: exactly what the worker receives (`PROJECTNAME`, `GITBRANCH`, `GITCOMMIT`). */
export interface JobRequest {
  readonly project: string;
  readonly branch: string;
  readonly commit?: string;
  /**
   * Same token, same job: a repeated delivery of one trigger starts no second job.
   * CodeBuild honours it for 5 minutes.
   */
  readonly idempotencyToken?: string;
  /**
   * The project's `timeoutMinutes` from the registry, so the job's host can stop it too
   * (CodeBuild's build timeout). The worker enforces it either way.
   */
  readonly timeoutMinutes?: number;
  /**
   * The trigger's id (its deploy record's key), given to the worker as `IWOMP_TRIGGER_ID` so that it
   * reports to its own record and the build's events name it. @default - no record (local mode)
   */
  readonly triggerId?: string;
}

export interface StartedJob {
  /** CodeBuild build id, or the local job id. */
  readonly id: string;
  /** Where a person reads the job's log (AWS: the build's page in the CodeBuild console). */
  readonly logUrl?: string;
}

/** How a job's host last saw it; `status` as CodeBuild's `buildStatus`. */
export interface JobStatus {
  readonly id: string;
  readonly status: BuildStatus;
  readonly logUrl?: string;
}

/** Reads the state of jobs already started (AWS: BatchGetBuilds), for the reconcile. */
export interface JobStatusReader {
  /** The jobs found among `ids`; an id the host does not know is left out. */
  statuses(ids: readonly string[]): Promise<JobStatus[]>;
}

/**
 * The job's host refuses more jobs for now (CodeBuild: the account's concurrent-build quota,
 * `AccountLimitExceededException`). Not a failure of the trigger: it waits at the head of its
 * lane and is started again later. Transient, like every JobStartError that waiting can cure.
 */
export class JobLimitError extends JobStartError {
  constructor(message: string, options?: IwompErrorOptions) {
    super('transient', message, options);
    this.name = 'JobLimitError';
  }
}

/**
 * Starts worker jobs: CodeBuild StartBuild in AWS, a child process locally. Errors thrown are
 * transient failures (throttling, network): the trigger should be retried.
 */
export interface JobLauncher {
  start(request: JobRequest): Promise<StartedJob>;
}
