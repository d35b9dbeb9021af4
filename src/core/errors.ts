/**
 * Named errors of the pipeline. Each one is a failure a user can act on; its message is one line
 * that says what was wrong and, where it helps, what to do.
 *
 * Every error carries a {@link ErrorCategory}, given once, by its class (or, for errors whose
 * cause decides, by the adapter that raised it). Everything that reacts to a failure derives its
 * reaction from the category alone, with an exhaustive switch: the launcher's rejected / failed
 * decision (`launcher/outcome.ts`), the worker's exit code (`exit-codes.ts`) and the CLI's
 * (`cli/exit-codes.ts`). A new error class must name its category, or it does not compile.
 */

import { quoteName, showName } from './display.js';

/**
 * What kind of failure an error is, from the point of view of whoever must act on it.
 *
 * - `invalid-input`: the request itself breaks a rule (a project or branch name, a commit, the message).
 * - `environment`: the process was started with a missing or refused environment variable.
 * - `not-found`: what the request names does not exist (a project, a job, a stack output).
 * - `invalid-config`: a registry document is not a valid project configuration.
 * - `policy`: the request is well formed but the rules refuse it (branch not allowed).
 * - `unavailable`: a service could not be reached or asked to slow down; waiting may help.
 * - `misconfigured`: the pipeline's own setup must be fixed first (permissions, a missing
 *   resource, no credentials); retrying as is cannot help, replaying after the fix will.
 * - `deploy-role`: the project's deploy role could not be assumed; nothing ran.
 * - `clone`: git could not fetch or check out the branch.
 * - `superseded`: the branch moved past the commit asked for; nothing ran.
 * - `command`: the deploy command failed or could not start; the error carries its status.
 * - `usage`: the command line itself is wrong (CLI only).
 * - `internal`: a bug; something the pipeline did not expect.
 */
export type ErrorCategory =
  | 'invalid-input'
  | 'environment'
  | 'not-found'
  | 'invalid-config'
  | 'policy'
  | 'unavailable'
  | 'misconfigured'
  | 'deploy-role'
  | 'clone'
  | 'superseded'
  | 'command'
  | 'usage'
  | 'internal';

/** The category of any thrown value: an IwompError's own, `internal` for anything else. */
export function categoryOf(error: unknown): ErrorCategory {
  return error instanceof IwompError ? error.category : 'internal';
}

/** For exhaustive switches over a union: a missing case is a compile error. */
export function unreachable(value: never): never {
  throw new InternalError(`unexpected value ${JSON.stringify(value)}`);
}

export interface IwompErrorOptions {
  readonly cause?: unknown;
}

/** Base class: every error the pipeline raises on purpose. Subclasses name their category. */
export abstract class IwompError extends Error {
  abstract readonly category: ErrorCategory;

  constructor(message: string, options: IwompErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'IwompError';
  }
}

/** A bug or a broken assumption: something the pipeline did not expect. */
export class InternalError extends IwompError {
  readonly category = 'internal';

  constructor(message: string, options?: IwompErrorOptions) {
    super(message, options);
    this.name = 'InternalError';
  }
}

/** Whether a service failure can pass by waiting (`unavailable`) or needs a person (`misconfigured`). */
export type ServiceFailure = 'unavailable' | 'misconfigured';

export interface ServiceErrorOptions extends IwompErrorOptions {
  /**
   * Decided by the adapter that called the service, from the service's answer.
   * @default 'unavailable'
   */
  readonly category?: ServiceFailure;
}

/** A required environment variable is missing or holds a value the pipeline refuses. */
export class EnvironmentError extends IwompError {
  readonly category = 'environment';

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
  readonly category = 'invalid-input';

  constructor(
    readonly field: 'project' | 'branch' | 'commit' | 'configPath' | 'message' | 'value',
    message: string,
    options?: IwompErrorOptions,
  ) {
    super(message, options);
    this.name = 'InvalidInputError';
  }
}

/**
 * The registry could not be read or written (network, permissions, a broken store). The adapter
 * that called the store says whether waiting can help.
 */
export class RegistryError extends IwompError {
  readonly category: ServiceFailure;

  constructor(message: string, options: ServiceErrorOptions = {}) {
    super(message, options);
    this.name = 'RegistryError';
    this.category = options.category ?? 'unavailable';
  }
}

/**
 * A job could not be started (CodeBuild StartBuild, or the local process). Always a failure, never
 * a rejection: the trigger was valid, so it is retried and then kept by the on-failure destination.
 * `kind` says whether waiting can help (`transient`: throttling, 5xx, network) or a person must
 * fix the deployment first (`configuration`: missing worker project, access denied).
 */
export class JobStartError extends IwompError {
  readonly category: ServiceFailure;

  constructor(
    readonly kind: 'transient' | 'configuration',
    message: string,
    options?: IwompErrorOptions,
  ) {
    super(message, options);
    this.name = 'JobStartError';
    this.category = kind === 'transient' ? 'unavailable' : 'misconfigured';
  }
}

/** The project is not in the registry. */
export class ProjectNotFoundError extends IwompError {
  readonly category = 'not-found';

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
  readonly category = 'invalid-config';

  constructor(message: string, options?: IwompErrorOptions) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

/** The branch does not match the project's `branches` rules. */
export class BranchNotAllowedError extends IwompError {
  readonly category = 'policy';

  constructor(
    readonly project: string,
    readonly branch: string,
    readonly patterns: readonly string[],
  ) {
    super(
      `branch ${quoteName(branch)} may not deploy project '${project}' (allowed: ${patterns.map(showName).join(', ')})`,
    );
    this.name = 'BranchNotAllowedError';
  }
}

/** git could not fetch or check out the branch. */
export class CloneError extends IwompError {
  readonly category = 'clone';

  constructor(message: string, options?: IwompErrorOptions) {
    super(message, options);
    this.name = 'CloneError';
  }
}

/** The branch has moved past the commit CI asked for: deploying it would deploy untested code. */
export class SupersededError extends IwompError {
  readonly category = 'superseded';

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
  readonly category = 'command';

  constructor(
    message: string,
    readonly exitCode: number,
    options?: IwompErrorOptions,
  ) {
    super(message, options);
    this.name = 'CommandError';
  }
}

/** The project's deploy role could not be assumed (missing, not trusting the worker, STS down). */
export class DeployRoleError extends IwompError {
  readonly category = 'deploy-role';

  constructor(message: string, options?: IwompErrorOptions) {
    super(message, options);
    this.name = 'DeployRoleError';
  }
}
