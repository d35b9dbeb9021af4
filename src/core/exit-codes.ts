import {
  BranchNotAllowedError,
  CloneError,
  CommandError,
  ConfigError,
  EnvironmentError,
  InvalidInputError,
  ProjectNotFoundError,
  RegistryError,
  SupersededError,
} from './errors.js';

/**
 * Exit codes of the worker, documented in the README. The worker's own failures use 80–85, a
 * range shells and common tools leave alone; a failed deploy command passes its own status through.
 */
export const ExitCode = {
  ok: 0,
  /** The deploy command could not be found or started (as a shell reports it). */
  commandNotFound: 127,
  commandNotExecutable: 126,
  badEnvironment: 80,
  registryOrConfig: 81,
  branchNotAllowed: 82,
  cloneFailed: 83,
  superseded: 84,
  /** A bug: an error the worker did not expect. */
  internal: 85,
} as const;

/** Maps an error raised by the worker to the exit code that names its kind. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof CommandError) return error.exitCode;
  if (error instanceof EnvironmentError || error instanceof InvalidInputError) return ExitCode.badEnvironment;
  if (error instanceof BranchNotAllowedError) return ExitCode.branchNotAllowed;
  if (error instanceof SupersededError) return ExitCode.superseded;
  if (error instanceof CloneError) return ExitCode.cloneFailed;
  if (
    error instanceof RegistryError ||
    error instanceof ConfigError ||
    error instanceof ProjectNotFoundError
  ) {
    return ExitCode.registryOrConfig;
  }
  return ExitCode.internal;
}
