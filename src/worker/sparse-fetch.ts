/**
 * The monorepo path of a fetch: a partial clone (no file contents in the fetch, only commits
 * and trees) and a sparse checkout in cone mode, so that only the files under the sparse paths
 * (and the files of the root and of every parent directory) are ever downloaded, lazily, by the
 * checkout. Kept apart from git-fetch.ts: that file owns the branch, commit and secret rules,
 * this one only adds arguments and one step to its plan.
 */

/** Added to `git fetch`: ask for commits and trees only; blobs come when the checkout needs them. */
export const PARTIAL_FETCH_ARGS: readonly string[] = ['--filter=blob:none'];

/** What git prints, even with `--quiet`, when the server ignores the filter and sends every blob. */
const FILTER_IGNORED = /filtering not recognized by server/i;

/** Whether a fetch's stderr says the server sent everything (no `uploadpack.allowFilter`). */
export function filterWasIgnored(fetchStderr: string): boolean {
  return FILTER_IGNORED.test(fetchStderr);
}

/**
 * The step that turns the sparse checkout on, run after `git init` and before anything is checked
 * out. The paths travel on stdin, never in argv: a path may start with `-`, and git escapes glob
 * characters in what it reads there (cone mode takes directories, not patterns).
 */
export function sparseCheckoutStep(paths: readonly string[]): { args: string[]; input: string } {
  return {
    args: ['sparse-checkout', 'set', '--cone', '--sparse-index', '--stdin'],
    input: `${paths.join('\n')}\n`,
  };
}
