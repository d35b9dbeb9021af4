/**
 * Named errors of the pipeline. Each one is a failure a user can act on; its message is one line
 * that says what was wrong and, where it helps, what to do. Entry points map them to exit codes
 * (see `exit-codes.ts`) and print `iwomp: <message>`.
 */

export interface IwompErrorOptions {
  readonly cause?: unknown;
}

/** Base class: every error the pipeline raises on purpose. */
export class IwompError extends Error {
  constructor(message: string, options: IwompErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'IwompError';
  }
}

/** A required environment variable is missing or holds a value the pipeline refuses. */
export class EnvironmentError extends IwompError {
  constructor(
    readonly variable: string,
    message: string,
    options?: IwompErrorOptions,
  ) {
    super(`${variable}: ${message}`, options);
    this.name = 'EnvironmentError';
  }
}

/** A project name, branch name or commit that fails the naming rules. */
export class InvalidInputError extends IwompError {
  constructor(
    readonly field: 'project' | 'branch' | 'commit' | 'configPath' | 'message',
    message: string,
    options?: IwompErrorOptions,
  ) {
    super(message, options);
    this.name = 'InvalidInputError';
  }
}

/** The registry could not be read or written (network, permissions, a broken store). */
export class RegistryError extends IwompError {
  constructor(message: string, options?: IwompErrorOptions) {
    super(message, options);
    this.name = 'RegistryError';
  }
}

/**
 * A job could not be started (CodeBuild StartBuild, or the local process). Always a failure, never
 * a rejection: the trigger was valid, so it is retried and then kept by the on-failure destination.
 * `kind` says whether waiting can help (`transient`: throttling, 5xx, network) or a person must
 * fix the deployment first (`configuration`: missing worker project, access denied).
 */
export class JobStartError extends IwompError {
  constructor(
    readonly kind: 'transient' | 'configuration',
    message: string,
    options?: IwompErrorOptions,
  ) {
    super(message, options);
    this.name = 'JobStartError';
  }
}

/** The project is not in the registry. */
export class ProjectNotFoundError extends IwompError {
  constructor(
    readonly project: string,
    readonly location: string,
  ) {
    super(`project '${project}' is not registered (no ${location})`);
    this.name = 'ProjectNotFoundError';
  }
}

/** A registry document is not a valid project configuration. */
export class ConfigError extends IwompError {
  constructor(message: string, options?: IwompErrorOptions) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

/** The branch does not match the project's `branches` rules. */
export class BranchNotAllowedError extends IwompError {
  constructor(
    readonly project: string,
    readonly branch: string,
    readonly patterns: readonly string[],
  ) {
    super(`branch '${branch}' may not deploy project '${project}' (allowed: ${patterns.join(', ')})`);
    this.name = 'BranchNotAllowedError';
  }
}

/** git could not fetch or check out the branch. */
export class CloneError extends IwompError {
  constructor(message: string, options?: IwompErrorOptions) {
    super(message, options);
    this.name = 'CloneError';
  }
}

/** The branch has moved past the commit CI asked for: deploying it would deploy untested code. */
export class SupersededError extends IwompError {
  constructor(
    readonly branch: string,
    readonly requested: string,
    readonly head: string,
  ) {
    super(
      `superseded: branch '${branch}' is at ${head}, not at the requested commit ${requested}; ` +
        'the deploy command did not run (a later trigger deploys the newer commit)',
    );
    this.name = 'SupersededError';
  }
}

/** The deploy command could not start, failed, or was killed. */
export class CommandError extends IwompError {
  constructor(
    message: string,
    readonly exitCode: number,
    options?: IwompErrorOptions,
  ) {
    super(message, options);
    this.name = 'CommandError';
  }
}
