import { execFile } from 'node:child_process';
import { EnvironmentError } from '../core/errors.js';
import { parseCommit } from '../core/names.js';
import { UsageError } from './errors.js';
import { nonEmpty } from './settings.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Where a branch and commit were read from: a CI system's variables, or the git checkout. */
export interface BuildSource {
  /** For messages: `GitHub Actions (GITHUB_SHA)`, `git checkout`. */
  readonly name: string;
  /** The branch being built; undefined for tags, pull requests and detached checkouts. */
  readonly branch?: string;
  readonly commit?: string;
}

interface CiSystem {
  readonly name: string;
  readonly commitVar: string;
  /** The branch the commit is the head of, or undefined when the build is not a branch build. */
  readonly branch: (env: Env) => string | undefined;
}

// Pull-request and tag builds report no branch on purpose: their commit (often a merge commit) is
// not the head of any branch, so attaching it to a branch trigger would only get it superseded.
const CI_SYSTEMS: readonly CiSystem[] = [
  {
    name: 'GitHub Actions',
    commitVar: 'GITHUB_SHA',
    branch: (env) => (env.GITHUB_REF?.startsWith('refs/heads/') ? env.GITHUB_REF.slice(11) : undefined),
  },
  { name: 'GitLab CI', commitVar: 'CI_COMMIT_SHA', branch: (env) => nonEmpty(env.CI_COMMIT_BRANCH) },
  { name: 'CircleCI', commitVar: 'CIRCLE_SHA1', branch: (env) => nonEmpty(env.CIRCLE_BRANCH) },
  {
    name: 'Travis CI',
    commitVar: 'TRAVIS_COMMIT',
    branch: (env) =>
      env.TRAVIS_PULL_REQUEST === 'false' && !nonEmpty(env.TRAVIS_TAG)
        ? nonEmpty(env.TRAVIS_BRANCH)
        : undefined,
  },
  {
    name: 'Bitbucket Pipelines',
    commitVar: 'BITBUCKET_COMMIT',
    branch: (env) => nonEmpty(env.BITBUCKET_BRANCH),
  },
];

/** The CI system this runs in, from its own variables; undefined outside CI. */
export function ciSource(env: Env): BuildSource | undefined {
  for (const ci of CI_SYSTEMS) {
    const value = nonEmpty(env[ci.commitVar]);
    if (value === undefined) continue;
    let commit: string;
    try {
      commit = parseCommit(value);
    } catch (error) {
      throw new EnvironmentError(ci.commitVar, (error as Error).message, { cause: error });
    }
    const branch = ci.branch(env);
    return { name: `${ci.name} (${ci.commitVar})`, commit, ...(branch === undefined ? {} : { branch }) };
  }
  return undefined;
}

/** The git checkout at `cwd`: its current branch and HEAD commit; undefined outside a repository. */
export async function checkoutSource(cwd: string): Promise<BuildSource | undefined> {
  const [branch, commit] = await Promise.all([
    git(cwd, ['symbolic-ref', '--quiet', '--short', 'HEAD']),
    git(cwd, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']),
  ]);
  if (branch === undefined && commit === undefined) return undefined;
  return {
    name: 'git checkout',
    ...(branch === undefined ? {} : { branch }),
    ...(commit === undefined ? {} : { commit }),
  };
}

function git(cwd: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, timeout: 10_000 }, (error, stdout) => {
      // Not a repository, no commit yet, detached HEAD, or no git: each just means "unknown".
      resolve(error ? undefined : nonEmpty(stdout.trim()));
    });
  });
}

export interface TargetOptions {
  /** The `[branch]` argument. */
  readonly branch?: string;
  /** `--commit <sha>` (a string), `--no-commit` (false), or neither (undefined). */
  readonly commit?: string | false;
  readonly env: Env;
  readonly cwd: string;
}

export interface Target {
  readonly branch: string;
  readonly commit?: string;
  /** Where the commit came from, for the report. */
  readonly commitFrom?: string;
}

/**
 * Decides which branch and commit to trigger. Branch: the argument, else `GIT_BRANCH` (the seed's
 * name), else CI's branch, else the checkout's. Commit: `--commit`, else the commit CI or the
 * checkout is building, but only when it builds that very branch, so that a commit is never
 * attached to a branch it is not the head of.
 */
export async function resolveTarget(options: TargetOptions): Promise<Target> {
  const ci = ciSource(options.env);
  let checkout: BuildSource | undefined;
  let checkoutRead = false;
  const readCheckout = async () => {
    if (!checkoutRead) checkout = await checkoutSource(options.cwd);
    checkoutRead = true;
    return checkout;
  };

  const branch =
    options.branch ?? nonEmpty(options.env.GIT_BRANCH) ?? ci?.branch ?? (await readCheckout())?.branch;
  if (branch === undefined) {
    throw new UsageError('no branch given, and none found in CI variables or a git checkout: pass [branch]');
  }
  if (options.commit === false) return { branch };
  if (typeof options.commit === 'string') return { branch, commit: options.commit, commitFrom: '--commit' };
  for (const source of ci ? [ci] : [await readCheckout()]) {
    if (source?.commit !== undefined && source.branch === branch) {
      return { branch, commit: source.commit, commitFrom: source.name };
    }
  }
  return { branch };
}
