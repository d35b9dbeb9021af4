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
}

export interface StartedJob {
  /** CodeBuild build id, or the local job id. */
  readonly id: string;
}

/**
 * Starts worker jobs: CodeBuild StartBuild in AWS, a child process locally. Errors thrown are
 * transient failures (throttling, network): the trigger should be retried.
 */
export interface JobLauncher {
  start(request: JobRequest): Promise<StartedJob>;
}
