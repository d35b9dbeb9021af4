import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError, EnvironmentError } from '../core/errors.js';
import { assertTransportAllowed, displayGitUrl, parseGitUrl } from '../core/git-url.js';
import {
  type ProjectConfig,
  type ProjectDocument,
  parseProjectDocument,
  resolveProjectConfig,
} from '../core/project-config.js';
import { REDACTED } from '../core/redact.js';
import { loadDefaults, type Registry } from '../ports/registry.js';
import { UsageError } from './errors.js';

/**
 * `projects put` options. Secrets have no flag of their own: a process's argv is readable by every
 * user of the machine (`/proc/<pid>/cmdline`, `ps`), and lands in shell history and CI logs. They
 * come from the `--file` document, stdin, a file, or a named environment variable.
 */
export interface ProjectFlags {
  /** `--file <path>`, `-` for stdin: a whole project document; the other flags override its keys. */
  readonly file?: string;
  readonly gitUrl?: string;
  /** `--command`, repeatable: one is a program, several are an argv. */
  readonly command?: readonly string[];
  readonly deployDir?: string;
  /** `--deploy-role <arn>`: the deploy command's IAM role, for every branch. */
  readonly deployRole?: string;
  /** `--branch`, repeatable: the allowed branch patterns. */
  readonly branch?: readonly string[];
  readonly basicUsername?: string;
  /** `--auth-token-env <VAR>`: the name of the variable holding the token, never the token. */
  readonly authTokenEnv?: string;
  /** `--basic-password-env <VAR>`. */
  readonly basicPasswordEnv?: string;
  /** `--status-token-env <VAR>`: the variable holding the commit status token. */
  readonly statusTokenEnv?: string;
  /** `--status-provider github|gitlab`. */
  readonly statusProvider?: string;
  /** `--status-api-url <url>`. */
  readonly statusApiUrl?: string;
  /** `--ssh-private-key-file <path>`. */
  readonly sshPrivateKeyFile?: string;
  /** `--ssh-known-hosts-file <path>`. */
  readonly sshKnownHostsFile?: string;
}

export interface InputContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Reads all of stdin (for `--file -`). */
  readonly readStdin: () => Promise<string>;
}

/** Builds the document `projects put` stores, from `--file` and flags, and checks it against the schema. */
export async function readProjectInput(flags: ProjectFlags, context: InputContext): Promise<ProjectDocument> {
  let base: ProjectDocument = {};
  let where = 'the project';
  if (flags.file !== undefined) {
    where = flags.file === '-' ? 'stdin' : flags.file;
    const text = flags.file === '-' ? await context.readStdin() : await readText(flags.file, context.cwd);
    base = parseProjectDocument(text, where);
  }
  const overrides: Record<string, unknown> = {};
  if (flags.gitUrl !== undefined) overrides.gitUrl = flags.gitUrl;
  if (flags.command !== undefined && flags.command.length > 0) {
    overrides.command = flags.command.length === 1 ? flags.command[0] : [...flags.command];
  }
  if (flags.deployDir !== undefined) overrides.deployDir = flags.deployDir;
  if (flags.deployRole !== undefined) overrides.deployRole = flags.deployRole;
  if (flags.branch !== undefined && flags.branch.length > 0) overrides.branches = [...flags.branch];
  if (flags.basicUsername !== undefined) overrides.basicUsername = flags.basicUsername;
  if (flags.authTokenEnv !== undefined) overrides.authToken = fromEnv(flags.authTokenEnv, context.env);
  if (flags.basicPasswordEnv !== undefined)
    overrides.basicPassword = fromEnv(flags.basicPasswordEnv, context.env);
  if (flags.statusTokenEnv !== undefined) overrides.statusToken = fromEnv(flags.statusTokenEnv, context.env);
  if (flags.statusProvider !== undefined) overrides.statusProvider = flags.statusProvider;
  if (flags.statusApiUrl !== undefined) overrides.statusApiUrl = flags.statusApiUrl;
  if (flags.sshPrivateKeyFile !== undefined)
    overrides.sshPrivateKey = await readText(flags.sshPrivateKeyFile, context.cwd);
  if (flags.sshKnownHostsFile !== undefined)
    overrides.sshKnownHosts = await readText(flags.sshKnownHostsFile, context.cwd);
  if (flags.file === undefined && Object.keys(overrides).length === 0) {
    throw new UsageError(
      'nothing to store: give --file <project.json> (or - for stdin), or --git-url and --command',
    );
  }
  // The merged document goes through the same parser as a stored one: flags get no looser rules.
  return parseProjectDocument(JSON.stringify({ ...base, ...overrides }), where);
}

async function readText(path: string, cwd: string): Promise<string> {
  try {
    return await readFile(resolve(cwd, path), 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`, {
      cause: error,
    });
  }
}

function fromEnv(name: string, env: Readonly<Record<string, string | undefined>>): string {
  const value = env[name];
  if (value === undefined || value === '')
    throw new EnvironmentError(name, 'is not set (it should hold the secret)');
  return value;
}

/**
 * Checks a document as the worker will use it, before anything is written: it must resolve over
 * the registry's current `_default`, and its git URL must be one the pipeline fetches (no
 * credentials in it; local paths and plain http only in local mode).
 */
export async function checkProjectDocument(
  document: ProjectDocument,
  registry: Registry,
  options: { allowLocalGitUrls: boolean },
): Promise<ProjectConfig> {
  const config = resolveProjectConfig(await loadDefaults(registry), document);
  const remote = parseGitUrl(config.gitUrl);
  assertTransportAllowed(remote, { local: options.allowLocalGitUrls });
  return config;
}

const SECRET_KEYS = ['authToken', 'basicPassword', 'sshPrivateKey', 'statusToken'] as const;

/** The git URL as `projects list` and `show` print it (kept here for the CLI's callers). */
export { displayGitUrl };

/** A document fit to print: every secret value replaced by `***`, and no userinfo in `gitUrl`. */
export function redactDocument(document: ProjectDocument): ProjectDocument {
  const copy: ProjectDocument = { ...document };
  for (const key of SECRET_KEYS) if (copy[key] !== undefined) copy[key] = REDACTED;
  if (copy.gitUrl !== undefined) copy.gitUrl = displayGitUrl(copy.gitUrl);
  return copy;
}

export function configErrorFor(where: string, error: unknown): unknown {
  return error instanceof ConfigError
    ? new ConfigError(`${where}: ${error.message}`, { cause: error })
    : error;
}
