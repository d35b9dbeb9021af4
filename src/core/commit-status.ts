import { quote } from './display.js';
import { ConfigError, InternalError } from './errors.js';
import { isLoopback, parseGitUrl } from './git-url.js';
import { parseCommit } from './names.js';

/**
 * Commit statuses on the git host (docs/lifecycle.md, "Commit statuses"): which request sets
 * one, as data. No I/O: the worker sends what this builds (worker/commit-status.ts).
 */

/** The git hosts whose commit status API the worker speaks. */
export const STATUS_PROVIDERS = ['github', 'gitlab'] as const;
export type StatusProvider = (typeof STATUS_PROVIDERS)[number];

/** Where and how a project's statuses are set, resolved from its registry keys. */
export interface CommitStatusSetting {
  readonly provider: StatusProvider;
  /** API base, no trailing slash: `https://api.github.com`, `https://gitlab.example.com/api/v4`. */
  readonly apiUrl: string;
  /** `statusToken`: a secret, redacted like the git credentials. */
  readonly token: string;
  /** The repository's path on the host, without `.git`: `owner/repo` (GitHub), `group/sub/project` (GitLab). */
  readonly repository: string;
}

/**
 * A deploy's status in the worker's words (GitHub's): `pending` while the command runs, then
 * `success`, `failure` (the command failed) or `error` (the worker could not run it).
 */
export type DeployStatus = 'pending' | 'success' | 'failure' | 'error';

/** GitLab's states for ours: the command is running; it has no `error`, a deploy that could not run failed. */
const GITLAB_STATE: Record<DeployStatus, string> = {
  pending: 'running',
  success: 'success',
  failure: 'failed',
  error: 'failed',
};

/** GitHub refuses a longer description (422); GitLab shows the same one line. */
export const MAX_DESCRIPTION = 140;

export const GITHUB_API = 'https://api.github.com';
const USER_AGENT = 'iwomp-in-aws';

/** What redacts the description: a `Redactor` (core/redact.ts), named by shape to keep the imports one-way. */
export interface TextRedactor {
  redact(text: string): string;
}

export interface StatusRequest {
  readonly method: 'POST';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** JSON. */
  readonly body: string;
}

export interface CommitStatus {
  readonly project: string;
  /** The commit that was checked out (40 or 64 hex). */
  readonly commit: string;
  readonly state: DeployStatus;
  /** One line; redacted and cut to {@link MAX_DESCRIPTION} here. */
  readonly description: string;
  /** The build's log (CodeBuild's console page); none locally. */
  readonly targetUrl?: string;
}

/**
 * The exact request that sets `status` on the host. The description goes through `redactor`
 * before it is cut (cutting first could leave part of a secret that no longer matches).
 */
export function commitStatusRequest(
  setting: CommitStatusSetting,
  status: CommitStatus,
  redactor: TextRedactor,
): StatusRequest {
  const sha = checkedCommit(status.commit);
  const description = oneLine(redactor.redact(status.description));
  const context = `iwomp/${status.project}`;
  const target = status.targetUrl === undefined ? {} : { target_url: status.targetUrl };
  if (setting.provider === 'github') {
    return {
      method: 'POST',
      url: `${setting.apiUrl}/repos/${setting.repository}/statuses/${sha}`,
      headers: {
        Accept: 'application/vnd.github+json',
        Authorization: `Bearer ${setting.token}`,
        'Content-Type': 'application/json',
        'User-Agent': USER_AGENT,
        'X-GitHub-Api-Version': '2022-11-28',
      },
      body: JSON.stringify({ state: status.state, ...target, description, context }),
    };
  }
  return {
    method: 'POST',
    url: `${setting.apiUrl}/projects/${encodeURIComponent(setting.repository)}/statuses/${sha}`,
    headers: {
      Accept: 'application/json',
      'Content-Type': 'application/json',
      'PRIVATE-TOKEN': setting.token,
      'User-Agent': USER_AGENT,
    },
    // `name` is GitLab's label (`context` is its alias): one status per project, updated in place.
    body: JSON.stringify({ state: GITLAB_STATE[status.state], ...target, description, name: context }),
  };
}

function checkedCommit(commit: string): string {
  try {
    return parseCommit(commit);
  } catch (cause) {
    throw new InternalError(`a commit status needs the checked-out commit, got ${quote(commit)}`, { cause });
  }
}

/** Whitespace runs as one space, cut to {@link MAX_DESCRIPTION} characters (code points) with `…`. */
function oneLine(text: string): string {
  const chars = [...text.replace(/\s+/g, ' ').trim()];
  return chars.length <= MAX_DESCRIPTION
    ? chars.join('')
    : `${chars.slice(0, MAX_DESCRIPTION - 1).join('')}…`;
}

/** The provider a git host implies, when it is one of the public ones. */
export function providerForHost(host: string | undefined): StatusProvider | undefined {
  if (host === 'github.com') return 'github';
  if (host === 'gitlab.com') return 'gitlab';
  return undefined;
}

/** Why `value` cannot be a `statusApiUrl`, or undefined when it can. */
export function statusApiUrlProblem(value: string): string | undefined {
  if (/[\s\p{Cc}\\]/u.test(value)) return 'contains whitespace, a control character or a backslash';
  if (!URL.canParse(value)) return 'is not a URL';
  // Parsed as fetch() parses it, so the host checked here is the host the token goes to.
  const url = new URL(value);
  if (url.username !== '' || url.password !== '' || value.includes('@'))
    return 'must not embed credentials: the token goes in statusToken';
  if (value.includes('?') || value.includes('#')) return 'must not have a query or fragment';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && isLoopback(url.hostname)) return undefined;
  return 'must be https:// (http:// only on a loopback address)';
}

/** A checked `statusApiUrl`, without its trailing slashes. */
export function parseStatusApiUrl(value: string): string {
  const problem = statusApiUrlProblem(value);
  if (problem !== undefined) throw new ConfigError(`statusApiUrl ${quote(value)} ${problem}`);
  const url = new URL(value);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

// GitHub and GitLab names: letters, digits, '.', '_', '-' (GitLab also '+' in some places:
// refused here rather than guessed at, since the path goes into an API URL).
const PATH_SEGMENT = /^[A-Za-z0-9_.-]+$/;

/**
 * The repository's path on the host, from `gitUrl`: `https://github.com/acme/app.git` and
 * `git@github.com:acme/app.git` give `acme/app`. GitHub wants exactly `owner/repo`; GitLab takes
 * any depth of groups. Refused: a local path, or a segment that could change the API path.
 */
export function statusRepository(provider: StatusProvider, gitUrl: string): string {
  const remote = parseGitUrl(gitUrl);
  if (remote.host === undefined) {
    throw new ConfigError('statusToken needs a gitUrl on a git host (https:// or ssh), not a local path');
  }
  const path = repositoryPath(remote.url)
    .replace(/^\/+/, '')
    .replace(/\/+$/, '')
    .replace(/\.git$/, '');
  const segments = path.split('/');
  const bad = segments.find((s) => !PATH_SEGMENT.test(s) || s === '.' || s === '..');
  if (bad !== undefined) {
    throw new ConfigError(
      `statusToken: the gitUrl path ${quote(path)} has the segment ${quote(bad)}; use letters, digits, '.', '_' and '-'`,
    );
  }
  if (provider === 'github' && segments.length !== 2) {
    throw new ConfigError(`statusProvider github needs a gitUrl path owner/repo, got ${quote(path)}`);
  }
  if (segments.length < 2) {
    throw new ConfigError(`statusProvider gitlab needs a gitUrl path group/project, got ${quote(path)}`);
  }
  return path;
}

/** The path part of a URL `parseGitUrl` accepted: after the authority, or after `host:` (scp-like). */
function repositoryPath(url: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/.exec(url);
  if (scheme !== null) return url.slice(scheme[0].length);
  const hostAndPath = url.replace(/^[^@/:]*@/, '');
  const colon = hostAndPath.startsWith('[') ? hostAndPath.indexOf(']:') + 1 : hostAndPath.indexOf(':');
  return hostAndPath.slice(colon + 1);
}
