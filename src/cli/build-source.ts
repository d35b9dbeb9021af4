import { execFile } from 'node:child_process';
import { EnvironmentError } from '../core/errors.js';
import { parseCommit, quote } from '../core/names.js';
import { UsageError } from './errors.js';
import { displayGitUrl } from './project-input.js';
import { nonEmpty } from './settings.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Where a branch and commit were read from: a CI system's variables, or the git checkout. */
export interface BuildSource {
  /** For messages: `GitHub Actions (GITHUB_SHA)`, `git checkout`. */
  readonly name: string;
  /** The branch being built; undefined for tags, pull requests and detached checkouts. */
  readonly branch?: string;
  readonly commit?: string;
  /** The repository the commit belongs to: CI's variable for it, or the checkout's remotes. */
  readonly repositories: readonly string[];
  /** For messages: `GITHUB_REPOSITORY`, `its remote`. */
  readonly repositoryFrom: string;
}

interface CiSystem {
  readonly name: string;
  readonly commitVar: string;
  /** The branch the commit is the head of, or undefined when the build is not a branch build. */
  readonly branch: (env: Env) => string | undefined;
  /** The variable naming the repository being built, and its URL. */
  readonly repositoryVar: string;
  readonly repository: (env: Env) => string | undefined;
}

// Pull-request and tag builds report no branch on purpose: their commit (often a merge commit) is
// not the head of any branch, so attaching it to a branch trigger would only get it superseded.
const CI_SYSTEMS: readonly CiSystem[] = [
  {
    name: 'GitHub Actions',
    commitVar: 'GITHUB_SHA',
    branch: (env) => (env.GITHUB_REF?.startsWith('refs/heads/') ? env.GITHUB_REF.slice(11) : undefined),
    repositoryVar: 'GITHUB_REPOSITORY',
    repository: (env) =>
      slugUrl(nonEmpty(env.GITHUB_SERVER_URL) ?? 'https://github.com', nonEmpty(env.GITHUB_REPOSITORY)),
  },
  {
    name: 'GitLab CI',
    commitVar: 'CI_COMMIT_SHA',
    branch: (env) => nonEmpty(env.CI_COMMIT_BRANCH),
    repositoryVar: 'CI_PROJECT_URL',
    repository: (env) => nonEmpty(env.CI_PROJECT_URL),
  },
  {
    name: 'CircleCI',
    commitVar: 'CIRCLE_SHA1',
    branch: (env) => nonEmpty(env.CIRCLE_BRANCH),
    repositoryVar: 'CIRCLE_REPOSITORY_URL',
    repository: (env) => nonEmpty(env.CIRCLE_REPOSITORY_URL),
  },
  {
    name: 'Travis CI',
    commitVar: 'TRAVIS_COMMIT',
    branch: (env) =>
      env.TRAVIS_PULL_REQUEST === 'false' && !nonEmpty(env.TRAVIS_TAG)
        ? nonEmpty(env.TRAVIS_BRANCH)
        : undefined,
    // Travis builds GitHub repositories; its slug is `owner/name` there.
    repositoryVar: 'TRAVIS_REPO_SLUG',
    repository: (env) => slugUrl('https://github.com', nonEmpty(env.TRAVIS_REPO_SLUG)),
  },
  {
    name: 'Bitbucket Pipelines',
    commitVar: 'BITBUCKET_COMMIT',
    branch: (env) => nonEmpty(env.BITBUCKET_BRANCH),
    repositoryVar: 'BITBUCKET_GIT_HTTP_ORIGIN',
    repository: (env) => nonEmpty(env.BITBUCKET_GIT_HTTP_ORIGIN),
  },
];

function slugUrl(server: string, slug: string | undefined): string | undefined {
  return slug === undefined ? undefined : `${server.replace(/\/+$/, '')}/${slug}`;
}

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
    const repository = ci.repository(env);
    return {
      name: `${ci.name} (${ci.commitVar})`,
      commit,
      ...(branch === undefined ? {} : { branch }),
      repositories: repository === undefined ? [] : [repository],
      repositoryFrom: ci.repositoryVar,
    };
  }
  return undefined;
}

/** The git checkout at `cwd`: its current branch and HEAD commit; undefined outside a repository. */
export async function checkoutSource(cwd: string): Promise<BuildSource | undefined> {
  const [branch, commit, remotes] = await Promise.all([
    git(cwd, ['symbolic-ref', '--quiet', '--short', 'HEAD']),
    git(cwd, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']),
    git(cwd, ['config', '--get-regexp', '^remote\\..*\\.url$']),
  ]);
  if (branch === undefined && commit === undefined) return undefined;
  return {
    name: 'the git checkout',
    ...(branch === undefined ? {} : { branch }),
    ...(commit === undefined ? {} : { commit }),
    // `remote.origin.url https://…`, one line per URL.
    repositories: (remotes ?? '')
      .split('\n')
      .map((line) => line.slice(line.indexOf(' ') + 1))
      .filter((url) => url !== ''),
    repositoryFrom: 'its remote',
  };
}

/**
 * A repository URL reduced to what names the repository, to compare two spellings of it:
 * `https://github.com/Me/App.git`, `git@github.com:me/app` and `ssh://git@github.com:22/me/app/`
 * all give `github.com/me/app`; `file:///srv/app.git` and `/srv/app` give `/srv/app`. Scheme, user,
 * port, a `.git` suffix and case are left out. Undefined for what is not a repository URL.
 */
export function repositoryKey(url: string): string | undefined {
  let host: string;
  let path: string;
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(url)) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return undefined;
    }
    host = parsed.protocol === 'file:' ? '' : parsed.hostname;
    path = decodeURIComponent(parsed.pathname);
  } else if (url.startsWith('/')) {
    host = '';
    path = url;
  } else {
    const scp = /^(?:[^@/:]+@)?([^/:]+):(.+)$/.exec(url);
    if (scp === null) return undefined;
    host = scp[1] ?? '';
    path = `/${scp[2] ?? ''}`;
  }
  path = path.replace(/\/+$/, '').replace(/\.git$/i, '');
  if (host !== '') path = path.replace(/^\/+/, '/');
  return `${host}${path}`.toLowerCase();
}

/** Whether any of `urls` names the repository `gitUrl` names. */
export function sameRepository(gitUrl: string, urls: readonly string[]): boolean {
  const key = repositoryKey(gitUrl);
  return key !== undefined && urls.some((url) => repositoryKey(url) === key);
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
  /** The project being triggered, for messages. */
  readonly project: string;
  /** The `[branch]` argument. */
  readonly branch?: string;
  /** `--commit <sha>` (a string), `--no-commit` (false), or neither (undefined). */
  readonly commit?: string | false;
  readonly env: Env;
  readonly cwd: string;
  /**
   * The project's registered `gitUrl`, or undefined with the reason it cannot be read (not
   * registered, no right to read the registry).
   */
  readonly projectGitUrl: () => Promise<{ gitUrl?: string; problem?: string }>;
  /**
   * Whether CI's repository is checked against `gitUrl` too. In AWS, CI may only publish (it
   * cannot read the registry), so the repository CI names is taken as the project's; locally the
   * registry is at hand.
   */
  readonly checkCiRepository: boolean;
}

export interface Target {
  readonly branch: string;
  readonly commit?: string;
  /** Where the commit came from, for the report. */
  readonly commitFrom?: string;
  /**
   * One line for stderr, said before anything is published: which commit and why, or why none.
   * Absent when the command line decided (`--commit`, `--no-commit`).
   */
  readonly note?: string;
}

/**
 * Decides which branch and commit to trigger. Branch: the argument, else `GIT_BRANCH` (the seed's
 * name), else CI's branch, else the checkout's. Commit: `--commit`, else the commit CI or the
 * checkout is building, but only when it builds that very branch of the project's own repository,
 * so that a commit is never attached to a branch it is not the head of. A commit of another
 * repository would only get the job superseded, and nothing deployed.
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

  const none = (why: string) => ({
    branch,
    note: `no commit attached: ${why}; the worker deploys the head of ${branch}`,
  });
  const source = ci ?? (await readCheckout());
  if (source?.commit === undefined) return none('not in CI, and not in a git checkout with a commit');
  const where = source === ci ? source.name : `${source.name} at ${options.cwd}`;
  if (source.branch !== branch) {
    return none(
      source.branch === undefined
        ? `${where} does not build a branch`
        : `${where} builds ${quote(source.branch)}, not ${quote(branch)}`,
    );
  }
  const attach = (why: string) => ({
    branch,
    commit: source.commit,
    commitFrom: source.name,
    note: `commit ${source.commit} from ${where}: ${why}`,
  });
  const [named] = source.repositories;
  if (named === undefined) {
    return none(
      source === ci ? `${where} names no repository (${source.repositoryFrom})` : `${where} has no remote`,
    );
  }
  if (source === ci && !options.checkCiRepository) {
    return attach(`it builds ${displayGitUrl(named)} (${source.repositoryFrom})`);
  }
  const { gitUrl, problem } = await options.projectGitUrl();
  if (gitUrl === undefined) {
    return none(
      `cannot read ${options.project}'s gitUrl to check that ${where} is of its repository (${problem ?? 'unknown'}); pass --commit to attach one`,
    );
  }
  if (!sameRepository(gitUrl, source.repositories)) {
    return none(`${where} is not of ${options.project}'s repository ${displayGitUrl(gitUrl)}`);
  }
  return attach(`${source.repositoryFrom} is ${options.project}'s repository ${displayGitUrl(gitUrl)}`);
}
