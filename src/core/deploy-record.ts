import { ExitCode } from './exit-codes.js';
import { isFinished, type JobRecord, type JobState, stateForExitCode } from './job-record.js';

/**
 * A deploy record in AWS: the core job record (keyed by the trigger's SNS MessageId) plus what
 * the launcher learns from CodeBuild and what the worker reports about itself. The table's item
 * layout is in docs/lifecycle.md; the adapter (adapters/aws/deploy-table.ts) maps it.
 */
export interface DeployRecord extends JobRecord {
  /** CodeBuild build id (`<project>:<uuid>`), once StartBuild returned it. */
  readonly buildId?: string;
  /** A link a person opens to read the worker's log (the CodeBuild console's build page). */
  readonly logUrl?: string;
  /** The commit the worker checked out, as it reported it (the trigger may have sent none). */
  readonly deployedCommit?: string;
  /** The worker's own exit code and one-line reason, when it reported them before its build ended. */
  readonly reportedExitCode?: number;
  readonly reportedReason?: string;
}

/** CodeBuild's build statuses (`build-status` of a state-change event, `buildStatus` of BatchGetBuilds). */
export const BUILD_STATUSES = [
  'IN_PROGRESS',
  'SUCCEEDED',
  'FAILED',
  'FAULT',
  'TIMED_OUT',
  'STOPPED',
] as const;
export type BuildStatus = (typeof BUILD_STATUSES)[number];

/**
 * How a record ends when its build has ended: the worker's own outcome when it reported one (it
 * knows why: a clone failure, a superseded commit, the command's status), else what CodeBuild
 * says. A build stopped from outside (`aws codebuild stop-build`, `iwomp deploys cancel`) is
 * `cancelled`; one that ran out of time or hit an infrastructure fault is `failed`.
 */
export function finalOutcome(
  record: DeployRecord,
  status: Exclude<BuildStatus, 'IN_PROGRESS'>,
): { readonly state: JobState; readonly exitCode?: number; readonly reason?: string } {
  if (record.reportedExitCode !== undefined) {
    const state = stateForExitCode(record.reportedExitCode);
    return {
      state,
      exitCode: record.reportedExitCode,
      ...(state !== 'succeeded' && record.reportedReason !== undefined
        ? { reason: record.reportedReason }
        : {}),
    };
  }
  switch (status) {
    case 'SUCCEEDED':
      return { state: 'succeeded', exitCode: ExitCode.ok };
    case 'STOPPED':
      return { state: 'cancelled', reason: 'the build was stopped' };
    case 'TIMED_OUT':
      return { state: 'failed', reason: 'the build timed out before the worker reported an outcome' };
    case 'FAULT':
      return { state: 'failed', reason: 'CodeBuild reported a fault before the worker reported an outcome' };
    case 'FAILED':
      return { state: 'failed', reason: 'the build failed before the worker reported an outcome' };
  }
}

/**
 * The message published on the results topic for every record that reached a final state: one
 * JSON object, stable field names, no registry value (names, ids, the redacted reason, a link).
 */
export interface DeployResult {
  readonly version: 1;
  readonly id: string;
  readonly project: string;
  readonly branch: string;
  readonly commit?: string;
  readonly state: JobState;
  readonly reason?: string;
  readonly exitCode?: number;
  readonly buildId?: string;
  readonly logUrl?: string;
  readonly createdAt: string;
  readonly finishedAt?: string;
}

/** The results-topic message of a finished record; undefined while it has not finished. */
export function deployResultOf(record: DeployRecord): DeployResult | undefined {
  if (!isFinished(record.state)) return undefined;
  const commit = record.deployedCommit ?? record.commit;
  return {
    version: 1,
    id: record.id,
    project: record.project,
    branch: record.branch,
    ...(commit === undefined ? {} : { commit }),
    state: record.state,
    ...(record.error === undefined ? {} : { reason: record.error }),
    ...(record.exitCode === undefined ? {} : { exitCode: record.exitCode }),
    ...(record.buildId === undefined ? {} : { buildId: record.buildId }),
    ...(record.logUrl === undefined ? {} : { logUrl: record.logUrl }),
    createdAt: record.createdAt,
    ...(record.finishedAt === undefined ? {} : { finishedAt: record.finishedAt }),
  };
}
