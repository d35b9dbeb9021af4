import { CommandError, categoryOf, unreachable } from './errors.js';

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
  /** The project's deploy role could not be assumed; the command did not run. */
  deployRoleFailed: 86,
  /** A bug: an error the worker did not expect. */
  internal: 85,
} as const;

/** Maps an error raised by the worker to the exit code that names its kind, by its category. */
export function exitCodeFor(error: unknown): number {
  const category = categoryOf(error);
  switch (category) {
    case 'command':
      return error instanceof CommandError ? error.exitCode : ExitCode.internal;
    case 'environment':
    case 'invalid-input':
      return ExitCode.badEnvironment;
    case 'policy':
      return ExitCode.branchNotAllowed;
    case 'superseded':
      return ExitCode.superseded;
    case 'clone':
      return ExitCode.cloneFailed;
    case 'deploy-role':
      return ExitCode.deployRoleFailed;
    // In the worker, services and documents are the registry's: one code for "fix the registry
    // or its access", whether the read failed, the project is missing or its document is invalid.
    case 'not-found':
    case 'invalid-config':
    case 'unavailable':
    case 'misconfigured':
      return ExitCode.registryOrConfig;
    case 'usage':
    case 'internal':
      return ExitCode.internal;
    default:
      return unreachable(category);
  }
}
