import { categoryOf, unreachable } from '../core/errors.js';

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

/** Maps an error thrown by a command to its exit code, by its category. */
export function cliExitCodeFor(error: unknown): number {
  const category = categoryOf(error);
  switch (category) {
    case 'usage':
      return CliExitCode.usage;
    case 'policy':
      return CliExitCode.rejected;
    case 'not-found':
      return CliExitCode.notFound;
    case 'invalid-input':
    case 'invalid-config':
    case 'environment':
      return CliExitCode.invalidInput;
    case 'unavailable':
    case 'misconfigured':
    case 'deploy-role':
      return CliExitCode.service;
    // The worker's own failures reach the CLI only through `iwomp worker`, which exits with the
    // worker's codes; anywhere else they are unexpected.
    case 'clone':
    case 'superseded':
    case 'command':
    case 'internal':
      return CliExitCode.internal;
    default:
      return unreachable(category);
  }
}
