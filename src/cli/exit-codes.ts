import { categoryOf, InternalError, unreachable } from '../core/errors.js';
import type { JobState } from '../core/job-record.js';

/**
 * Exit codes of `iwomp`, documented in docs/cli.md. `iwomp worker` exits with the worker's own
 * codes instead (80–86, or the deploy command's status). `trigger --wait` exits with the deploy's
 * outcome (6–10, docs/lifecycle.md), in AWS and local mode alike: the worker's own code is printed,
 * never passed through, so a deploy command exiting 6 cannot read as "rejected".
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
  /** `trigger --wait`: the deploy failed (the worker's or the command's exit code is printed). */
  failed: 7,
  /** `trigger --wait`: a newer trigger took its place, or the branch moved past its commit. */
  superseded: 8,
  /** `trigger --wait`: `--timeout` passed first; the deploy goes on. */
  timedOut: 9,
  /** `trigger --wait`: the deploy was cancelled (its build stopped). */
  cancelled: 10,
} as const;

/** The exit code of `trigger --wait` for a deploy that ended in `state`. */
export function exitCodeForOutcome(state: JobState): number {
  switch (state) {
    case 'succeeded':
      return CliExitCode.ok;
    case 'rejected':
      return CliExitCode.rejected;
    case 'failed':
      return CliExitCode.failed;
    case 'superseded':
      return CliExitCode.superseded;
    case 'cancelled':
      return CliExitCode.cancelled;
    case 'received':
    case 'queued':
    case 'started':
    case 'running':
      throw new InternalError(`a deploy that is ${state} has no outcome yet`);
    default:
      return unreachable(state);
  }
}

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
