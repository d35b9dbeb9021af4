import {
  BranchNotAllowedError,
  ConfigError,
  EnvironmentError,
  InvalidInputError,
  ProjectNotFoundError,
  RegistryError,
} from '../core/errors.js';
import { JobNotFoundError, LocalStateError } from '../local/errors.js';
import { AwsServiceError, NotFoundError, TriggerRejectedError, UsageError } from './errors.js';

/**
 * Exit codes of `iwomp`, documented in docs/cli.md. `iwomp worker` exits with the worker's own
 * codes instead (80–85, or the deploy command's status), and `trigger --local --wait` with the job's.
 */
export const CliExitCode = {
  ok: 0,
  /** A bug: an error the CLI did not expect. */
  internal: 1,
  /** Wrong command line: unknown command or option, missing argument, conflicting options. */
  usage: 2,
  /** Input refused by the pipeline's rules: project or branch name, commit, project document, environment. */
  invalidInput: 3,
  /** The project, the stack or its output, a local job does not exist. */
  notFound: 4,
  /** AWS, the registry or the local state directory could not be reached or refused the call (credentials, permissions, network, a broken file). */
  service: 5,
  /** The pipeline refused the trigger (local mode: branch not allowed, project not registered, bad config). */
  rejected: 6,
} as const;

/** Maps an error thrown by a command to its exit code. */
export function cliExitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return CliExitCode.usage;
  if (error instanceof TriggerRejectedError || error instanceof BranchNotAllowedError)
    return CliExitCode.rejected;
  if (
    error instanceof ProjectNotFoundError ||
    error instanceof NotFoundError ||
    error instanceof JobNotFoundError
  ) {
    return CliExitCode.notFound;
  }
  if (
    error instanceof InvalidInputError ||
    error instanceof ConfigError ||
    error instanceof EnvironmentError
  ) {
    return CliExitCode.invalidInput;
  }
  if (
    error instanceof RegistryError ||
    error instanceof AwsServiceError ||
    error instanceof LocalStateError
  ) {
    return CliExitCode.service;
  }
  return CliExitCode.internal;
}
