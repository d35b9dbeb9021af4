import { posix } from 'node:path';
import { en } from 'zod/locales';
import * as z from 'zod/mini';
import { BRANCH_PATTERN_SYNTAX, branchPatternProblem } from './branch-policy.js';
import {
  type CommitStatusSetting,
  GITHUB_API,
  parseStatusApiUrl,
  providerForHost,
  STATUS_PROVIDERS,
  statusApiUrlProblem,
  statusRepository,
} from './commit-status.js';
import { DEFAULT_LANE_MODE, LANE_MODES, type LaneMode } from './deploy-lane.js';
import { DEPLOY_ROLE_PATH, type DeployRoleSetting, parseRoleArn } from './deploy-role.js';
import { quote } from './display.js';
import { ConfigError } from './errors.js';
import { CREDENTIAL_HOST, parseGitUrl } from './git-url.js';
import { duplicateJsonKey } from './json-keys.js';
import { describeJsonSyntaxError } from './json-syntax.js';

// zod/mini: the same checks and messages as classic zod in about a quarter of the bytes (23 KB
// against 86 KB bundled), which every start of the launcher, the worker and the CLI pays for
// (docs/launcher.md, "Start-up cost"). It ships no messages until a locale is configured.
z.config(en());

const MIN_SECRET = 8;
/** CodeBuild's longest build timeout (36 hours). */
export const MAX_TIMEOUT_MINUTES = 2160;

const secret = (what: string, description: string) =>
  z
    .string()
    .check(
      z.minLength(
        MIN_SECRET,
        `${what} must be at least ${MIN_SECRET} characters (shorter values cannot be redacted reliably)`,
      ),
      z.describe(description),
    );

/** A `branches` pattern: only `*` and `**` are special, other glob syntax is refused (branch-policy.ts). */
const branchPattern = z.string().check(
  z.minLength(1),
  z.superRefine((pattern, context) => {
    const problem = branchPatternProblem(pattern);
    if (problem !== undefined) context.addIssue({ code: 'custom', message: `${quote(pattern)} ${problem}` });
  }),
  // For editors: the same refusal of other glob dialects' syntax, as a JSON Schema pattern.
  z.meta({ pattern: BRANCH_PATTERN_SYNTAX }),
);

/** A non-empty string, with its description for the JSON Schema. */
const text = (description: string) => z.string().check(z.minLength(1), z.describe(description));

/** A non-empty array of non-empty strings, with its description. */
const texts = (description: string) =>
  z.array(z.string().check(z.minLength(1))).check(z.minLength(1), z.describe(description));

/**
 * One registry document: `/<configPath>/<project>` or `/<configPath>/_default`. Every key is
 * optional in a single document because `_default` may supply it; the merged result must pass
 * {@link resolveProjectConfig}. Unknown keys are refused by name: a typo must not silently drop a rule.
 */
export const ProjectDocumentSchema = z.partial(
  z.strictObject({
    gitUrl: text(
      'Repository to deploy from: https://host/path or ssh (user@host:path). No credentials in the URL.',
    ),
    authToken: secret('authToken', 'Token sent as an HTTP bearer token. Secret.'),
    basicUsername: text('HTTP basic auth user name; needs basicPassword.'),
    basicPassword: secret('basicPassword', 'HTTP basic auth password or token; needs basicUsername. Secret.'),
    sshPrivateKey: text('Private key (OpenSSH format) for ssh URLs; needs sshKnownHosts. Secret.'),
    sshKnownHosts: text('known_hosts lines that pin the git host key; the host key is always checked.'),
    deployDir: text('Directory inside the repository to run the command in. Default: the repository root.'),
    command: z
      .union([
        z.string().check(z.minLength(1)),
        z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
      ])
      .check(
        z.describe(
          'Program to run (path or name, no shell), or an argv array. The branch is appended as the last argument.',
        ),
      ),
    credentialHosts: z
      .array(
        z
          .string()
          .check(
            z.regex(
              CREDENTIAL_HOST,
              'must be a host name as it appears in gitUrl (github.com, 10.0.0.5, [fd00::1]), without scheme, user or port',
            ),
          ),
      )
      .check(
        z.minLength(1),
        z.describe(
          "_default only: the git hosts _default's credentials (authToken, basicUsername/basicPassword, sshPrivateKey) may be sent to. Default: the host of _default's gitUrl. A project on any other host gets no default credentials.",
        ),
      ),
    branches: z
      .array(branchPattern)
      .check(
        z.minLength(1),
        z.describe(
          "Patterns of the branches allowed to deploy, e.g. [\"main\", \"release/*\"]: '*' matches within one '/' segment, a whole segment '**' matches across segments (release/** matches release/x/y, not release). No other glob syntax. Default: any branch.",
        ),
      ),
    deployRole: z
      .union([
        z.string().check(z.minLength(1)),
        z
          .array(
            z.strictObject({
              branches: z.array(branchPattern).check(z.minLength(1)),
              roleArn: z.string().check(z.minLength(1)),
            }),
          )
          .check(z.minLength(1)),
      ])
      .check(
        z.describe(
          `IAM role the deploy command runs with (on the path ${DEPLOY_ROLE_PATH}), or rules [{"branches": ["main"], "roleArn": "…"}, …] where the first rule that allows the branch wins. Default: no role, and the command gets no AWS credentials.`,
        ),
      ),
    timeoutMinutes: z
      .number()
      .check(
        z.int('timeoutMinutes must be a whole number of minutes'),
        z.minimum(1, 'timeoutMinutes must be from 1 to 2160'),
        z.maximum(MAX_TIMEOUT_MINUTES, 'timeoutMinutes must be from 1 to 2160'),
        z.describe(
          'Minutes a deploy (fetch and command) may run before the worker stops it and fails the job, 1 to 2160. ' +
            "Default: the CodeBuild project's build timeout (60 minutes locally).",
        ),
      ),
    concurrency: z
      .enum(LANE_MODES)
      .check(
        z.describe(
          'What a trigger does while another deploy of the project runs (one runs at a time, never interrupted): "supersede" waits in place of the waiting trigger of the same branch, which is recorded superseded; "queue" waits behind every other. Default: supersede.',
        ),
      ),
    sparsePaths: texts(
      'Directories the deploy needs besides deployDir (shared libraries), fetched and checked out with it when deployDir is not the root.',
    ),
    statusToken: secret(
      'statusToken',
      'Token that sets a commit status on the deployed commit (GitHub: repo:status, or "Commit statuses: write"; GitLab: api). Each project its own: refused in _default. Never given to the deploy command. Secret.',
    ),
    statusProvider: z
      .enum(STATUS_PROVIDERS)
      .check(
        z.describe(
          'The commit status API statusToken is for: "github" or "gitlab". Default: from the gitUrl host (github.com, gitlab.com); required for any other host.',
        ),
      ),
    statusApiUrl: z.string().check(
      z.minLength(1),
      z.superRefine((value, context) => {
        const problem = statusApiUrlProblem(value);
        if (problem !== undefined)
          context.addIssue({ code: 'custom', message: `${quote(value)} ${problem}` });
      }),
      z.describe(
        'Base URL of the commit status API. Default: https://api.github.com, or https://<gitUrl host>/api/v4 for gitlab. https:// only (http:// on a loopback address).',
      ),
    ),
    sparseCheckout: z
      .boolean()
      .check(
        z.describe(
          'false: fetch and check out the whole tree even when deployDir is a subdirectory (deploy scripts that read outside it). Default: true.',
        ),
      ),
  }),
);

export type ProjectDocument = z.infer<typeof ProjectDocumentSchema>;

/** How the worker authenticates to the git host. At most one method per project. */
export type GitAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  | { readonly kind: 'ssh'; readonly privateKey: string; readonly knownHosts: string };

/** A project's configuration after `_default` layering and validation. */
export interface ProjectConfig {
  readonly gitUrl: string;
  readonly auth: GitAuth;
  /** Normalized, relative, inside the clone (`.` for the root). */
  readonly deployDir: string;
  /** argv of the deploy command; the branch is appended when it runs. */
  readonly command: readonly string[];
  /** Branch glob patterns; undefined means every branch may deploy. */
  readonly branches?: readonly string[];
  /** The deploy command's IAM role, or one per branch pattern; undefined: no AWS credentials. */
  readonly deployRole?: DeployRoleSetting;
  /** Minutes the job may run; undefined leaves it to the build's own timeout. */
  readonly timeoutMinutes?: number;
  /**
   * Set when `_default` holds credentials that were not given to this project because its git
   * host is not one they are bound to: one line saying so, for the worker's log.
   */
  readonly droppedDefaultCredentials?: string;
  /**
   * Directories to fetch and check out (git's cone mode: each with everything under it, plus the
   * files of the root and of every parent), `deployDir` first; undefined means the whole tree.
   */
  readonly sparsePaths?: readonly string[];
  /** What a trigger does while another deploy of the project holds its lane (core/deploy-lane.ts). */
  readonly concurrency: LaneMode;
  /** Where the worker sets the deployed commit's status; undefined without `statusToken`. */
  readonly commitStatus?: CommitStatusSetting;
}

const AUTH_KEYS = ['authToken', 'basicUsername', 'basicPassword', 'sshPrivateKey', 'sshKnownHosts'] as const;

/**
 * Parses one registry document (JSON text). `where` names it in errors, e.g. `/iwomp-in-aws/demo`.
 */
export function parseProjectDocument(text: string, where: string): ProjectDocument {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`${where} is not valid JSON: ${describeJsonSyntaxError(text, cause)}`, { cause });
  }
  const duplicate = duplicateJsonKey(text);
  if (duplicate !== undefined)
    throw new ConfigError(`${where} has the key ${quote(duplicate)} more than once`);
  const result = ProjectDocumentSchema.safeParse(withoutSchemaReference(json));
  if (!result.success) throw new ConfigError(`${where}: ${formatIssues(result.error)}`);
  try {
    checkDeployRole(result.data.deployRole);
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(`${where}: ${error.message}`, { cause: error });
    throw error;
  }
  return result.data;
}

/**
 * A document may name its JSON Schema (`"$schema": "…"`) for editors: allowed, and dropped, so
 * it is neither stored as a project key nor refused as an unknown one. Anything but a string
 * stays, and is refused by name.
 */
function withoutSchemaReference(json: unknown): unknown {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return json;
  const { $schema, ...rest } = json as Record<string, unknown>;
  return typeof $schema === 'string' ? rest : json;
}

/**
 * Layers a project document over the defaults and checks the result. Project keys override
 * defaults; when the project sets any authentication key, the defaults' authentication is dropped
 * as a whole, so a project can switch method without inheriting half of another.
 *
 * The defaults' credentials are bound to hosts: `credentialHosts` in `_default`, else the host of
 * `_default`'s own `gitUrl`. A project whose git host is not one of them does not inherit them
 * (whoever may register a project must not be able to send the shared token to a host of their
 * choosing); `droppedDefaultCredentials` then says so. `credentialHosts` in a project is refused:
 * a project cannot widen what `_default` allows.
 */
export function resolveProjectConfig(
  defaults: ProjectDocument | undefined,
  project: ProjectDocument,
): ProjectConfig {
  if (project.credentialHosts !== undefined) {
    throw new ConfigError(
      "credentialHosts belongs in _default: a project cannot widen where _default's credentials go",
    );
  }
  // Not bound to hosts like the git credentials: whoever registers a project chooses its gitUrl,
  // so a shared status token would let them set statuses on any repository the token reaches.
  if (defaults?.statusToken !== undefined) {
    throw new ConfigError(
      '_default must not hold statusToken: a project would choose which repository it sets statuses on; give each project its own',
    );
  }
  const projectSetsAuth = AUTH_KEYS.some((k) => project[k] !== undefined);
  const base: ProjectDocument = { ...defaults };
  delete base.credentialHosts;
  let droppedDefaultCredentials: string | undefined;
  if (!projectSetsAuth && defaults !== undefined && AUTH_KEYS.some((k) => defaults[k] !== undefined)) {
    droppedDefaultCredentials = unboundDefaultCredentials(defaults, project.gitUrl ?? defaults.gitUrl);
  }
  if (projectSetsAuth || droppedDefaultCredentials !== undefined) for (const k of AUTH_KEYS) delete base[k];
  const merged: ProjectDocument = { ...base, ...project };

  if (merged.gitUrl === undefined) throw new ConfigError('gitUrl is required');
  if (merged.command === undefined) throw new ConfigError('command is required');
  const deployDir = parseDeployDir(merged.deployDir ?? '.');
  const sparsePaths = resolveSparsePaths(deployDir, merged);
  const commitStatus = resolveCommitStatus(merged, merged.gitUrl);
  return {
    gitUrl: merged.gitUrl,
    auth: resolveAuth(merged),
    deployDir,
    command: typeof merged.command === 'string' ? [merged.command] : merged.command,
    ...(merged.branches ? { branches: merged.branches } : {}),
    ...(merged.deployRole === undefined ? {} : { deployRole: checkDeployRole(merged.deployRole) }),
    ...(merged.timeoutMinutes === undefined ? {} : { timeoutMinutes: merged.timeoutMinutes }),
    ...(droppedDefaultCredentials === undefined ? {} : { droppedDefaultCredentials }),
    ...(sparsePaths ? { sparsePaths } : {}),
    concurrency: merged.concurrency ?? DEFAULT_LANE_MODE,
    ...(commitStatus === undefined ? {} : { commitStatus }),
  };
}

/**
 * `statusToken` with where it goes: the provider (named, or implied by a github.com / gitlab.com
 * gitUrl), the API (named, or the provider's default), and the repository from `gitUrl`'s path.
 * Without a token the other status keys do nothing (they may sit in `_default` for every project).
 */
function resolveCommitStatus(doc: ProjectDocument, gitUrl: string): CommitStatusSetting | undefined {
  if (doc.statusToken === undefined) return undefined;
  const host = hostOf(gitUrl);
  const provider = doc.statusProvider ?? providerForHost(host);
  if (provider === undefined) {
    throw new ConfigError(
      `statusToken needs statusProvider (github or gitlab): the gitUrl host ${host ?? '(none)'} is neither github.com nor gitlab.com`,
    );
  }
  const repository = statusRepository(provider, gitUrl);
  let apiUrl: string;
  if (doc.statusApiUrl !== undefined) apiUrl = parseStatusApiUrl(doc.statusApiUrl);
  else if (provider === 'github') apiUrl = GITHUB_API;
  else apiUrl = parseStatusApiUrl(`https://${host ?? ''}/api/v4`);
  return { provider, apiUrl, token: doc.statusToken, repository };
}

/**
 * What a sparse checkout takes: `deployDir` and `sparsePaths`, unless `deployDir` is the root (the
 * whole tree is needed anyway) or `sparseCheckout` is false. The paths are checked like
 * `deployDir` even when unused, so a typo fails the same way whatever the other keys say.
 */
function resolveSparsePaths(deployDir: string, doc: ProjectDocument): string[] | undefined {
  const extra = (doc.sparsePaths ?? []).map((path) => {
    const normalized = parsePathInRepo('sparsePaths entry', path);
    if (normalized === '.') {
      throw new ConfigError(
        `sparsePaths entry ${JSON.stringify(path)} is the repository root: set sparseCheckout to false for the whole tree`,
      );
    }
    return normalized;
  });
  if (deployDir === '.' || doc.sparseCheckout === false) return undefined;
  return [...new Set([deployDir, ...extra])];
}

/** Every role ARN of a `deployRole` setting must be a deploy role (see deploy-role.ts). */
function checkDeployRole<T extends DeployRoleSetting | undefined>(setting: T): T {
  const value: DeployRoleSetting | undefined = setting;
  if (typeof value === 'string') parseRoleArn(value);
  else
    for (const [i, rule] of (value ?? []).entries()) parseRoleArn(rule.roleArn, `deployRole[${i}].roleArn`);
  return setting;
}

/** Why `_default`'s credentials may not go to `gitUrl`'s host, or undefined when they may. */
function unboundDefaultCredentials(
  defaults: ProjectDocument,
  gitUrl: string | undefined,
): string | undefined {
  const bound =
    defaults.credentialHosts?.map((h) => h.toLowerCase()) ??
    [hostOf(defaults.gitUrl)].filter((h): h is string => h !== undefined);
  const host = hostOf(gitUrl);
  if (host !== undefined && bound.includes(host)) return undefined;
  const target = host === undefined ? 'this gitUrl' : `host ${host}`;
  const allowed = bound.length === 0 ? 'no host (set credentialHosts in _default)' : bound.join(', ');
  return `_default's credentials are not sent to ${target}: they are bound to ${allowed}`;
}

/** The host of a git URL that parses, else undefined (a bad URL is refused later, by the worker). */
function hostOf(gitUrl: string | undefined): string | undefined {
  if (gitUrl === undefined) return undefined;
  try {
    return parseGitUrl(gitUrl).host;
  } catch {
    return undefined;
  }
}

function resolveAuth(doc: ProjectDocument): GitAuth {
  const methods = [
    doc.authToken !== undefined && 'authToken',
    (doc.basicUsername !== undefined || doc.basicPassword !== undefined) && 'basicUsername/basicPassword',
    (doc.sshPrivateKey !== undefined || doc.sshKnownHosts !== undefined) && 'sshPrivateKey/sshKnownHosts',
  ].filter((m): m is string => typeof m === 'string');
  if (methods.length > 1)
    throw new ConfigError(`use at most one authentication method, got ${methods.join(' and ')}`);

  if (doc.authToken !== undefined) return { kind: 'token', token: doc.authToken };
  if (doc.basicUsername !== undefined || doc.basicPassword !== undefined) {
    if (doc.basicUsername === undefined || doc.basicPassword === undefined) {
      throw new ConfigError('basicUsername and basicPassword must be set together');
    }
    return { kind: 'basic', username: doc.basicUsername, password: doc.basicPassword };
  }
  if (doc.sshPrivateKey !== undefined || doc.sshKnownHosts !== undefined) {
    if (doc.sshPrivateKey === undefined || doc.sshKnownHosts === undefined) {
      throw new ConfigError('sshPrivateKey needs sshKnownHosts: the host key must be pinned');
    }
    return { kind: 'ssh', privateKey: doc.sshPrivateKey, knownHosts: doc.sshKnownHosts };
  }
  return { kind: 'none' };
}

/**
 * Checks `deployDir` on its own terms: relative, no `..`, no NUL or backslash. Symlinks are
 * checked by the worker after the clone, when they exist.
 */
export function parseDeployDir(value: string): string {
  return parsePathInRepo('deployDir', value);
}

function parsePathInRepo(what: string, value: string): string {
  const bad = (why: string) => new ConfigError(`${what} ${JSON.stringify(value)} ${why}`);
  if (/[\0\\]/.test(value) || /\p{Cc}/u.test(value))
    throw bad('contains a NUL, backslash or control character');
  if (posix.isAbsolute(value)) throw bad('must be relative to the repository root');
  if (value.split('/').includes('..')) throw bad("must not contain '..'");
  const normalized = posix.normalize(value).replace(/\/+$/, '');
  return normalized === '' ? '.' : normalized;
}

/** Formats zod issues as one line: `key: problem; key: problem`. */
export function formatIssues(error: z.core.$ZodError): string {
  return error.issues
    .map((issue) => {
      if (issue.code === 'unrecognized_keys')
        return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
      const path = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
      return `${path}${issue.message}`;
    })
    .join('; ');
}

/** Whether a document holds a value that must be stored encrypted (SSM SecureString). */
export function holdsSecret(doc: ProjectDocument): boolean {
  return (
    doc.authToken !== undefined ||
    doc.basicPassword !== undefined ||
    doc.sshPrivateKey !== undefined ||
    doc.statusToken !== undefined
  );
}
