import picomatch from 'picomatch';
import { BranchNotAllowedError } from './errors.js';

/**
 * Enforces a project's `branches` rules. They live in the registry, not in the repository:
 * a branch can rewrite its own deploy script, but not the registry.
 * Patterns are globs where `*` stays inside one `/` segment and `**` spans segments;
 * negation (`!x`) is not supported, so a pattern can only ever allow.
 */
export function isBranchAllowed(branch: string, patterns: readonly string[] | undefined): boolean {
  if (patterns === undefined) return true;
  return picomatch(patterns as string[], { nonegate: true, dot: true })(branch);
}

export function assertBranchAllowed(
  project: string,
  branch: string,
  patterns: readonly string[] | undefined,
): void {
  if (!isBranchAllowed(branch, patterns)) throw new BranchNotAllowedError(project, branch, patterns ?? []);
}
