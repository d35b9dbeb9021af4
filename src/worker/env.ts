import { parseRegistrySpec, type RegistrySpec } from '../adapters/create-registry.js';
import { flagVar, optionalVar, readVar, requiredVar } from '../core/env-vars.js';
import { EnvironmentError } from '../core/errors.js';
import {
  DEFAULT_CONFIG_PATH,
  parseBranchName,
  parseCommit,
  parseConfigPath,
  parseProjectName,
  quote,
} from '../core/names.js';

/** The worker's environment, read once at the edge. Names are the seed's, so CodeBuild setups keep working. */
export interface WorkerEnv {
  /** `CONFIGPATH`, default `iwomp-in-aws`. */
  readonly configPath: string;
  /** `PROJECTNAME`. */
  readonly project: string;
  /** `GITBRANCH`, short form (`refs/heads/` dropped). */
  readonly branch: string;
  /** `GITCOMMIT`: the commit CI tested; the job is superseded if the branch has moved on. */
  readonly commit?: string;
  /** `IWOMP_REGISTRY`: `ssm` (default) or `file:<dir>`. */
  readonly registry: RegistrySpec;
  /**
   * `IWOMP_LOCAL=1`: the user made this run local, so `file://` and plain `http://` git URLs are
   * allowed. A file registry alone does not imply it: one can test an AWS-bound config locally.
   */
  readonly local: boolean;
  /** `IWOMP_WORKDIR`: where each job's fresh directory is made. Default: the OS temp dir. */
  readonly workRoot?: string;
  /**
   * `IWOMP_KEEP_WORKDIR=1` keeps the clone after the command, for debugging. Default: removed,
   * except in CodeBuild (`CODEBUILD_BUILD_ID` set), whose container is thrown away anyway.
   */
  readonly keepWorkDir: boolean;
  /**
   * `IWOMP_RUN_AS`: the unprivileged user the deploy command runs as (the worker must be root to
   * switch; CodeBuild's curated images have `codebuild-user`). Unset: the worker's own user.
   */
  readonly runAs?: string;
  /** `CODEBUILD_BUILD_ID`, else `IWOMP_JOB_ID` (local mode): names the deploy role's session. */
  readonly buildId?: string;
  /**
   * `IWOMP_FETCH_TIMEOUT`: seconds the fetch (init to checkout) may take before git and its
   * helpers are killed. Default: 600 (see git-fetch.ts).
   */
  readonly fetchTimeoutSeconds?: number;
  /**
   * `IWOMP_JOB_TIMEOUT`: seconds a job may take when its project sets no `timeoutMinutes`.
   * Default: none of the worker's own (in CodeBuild the build project's timeout applies; the
   * local runner passes 3600, CodeBuild's default).
   */
  readonly jobTimeoutSeconds?: number;
  /** `CODEBUILD_BUILD_URL`: the build's console page, the link of the commit status. */
  readonly buildUrl?: string;
}

/** Reads and checks the worker's environment; every problem names its variable. */
export function parseWorkerEnv(env: NodeJS.ProcessEnv): WorkerEnv {
  const registry = parseRegistrySpec(env.IWOMP_REGISTRY);
  const commit = optionalVar(env.GITCOMMIT);
  const workRoot = optionalVar(env.IWOMP_WORKDIR);
  const runAs = optionalVar(env.IWOMP_RUN_AS);
  const buildId = optionalVar(env.CODEBUILD_BUILD_ID) ?? optionalVar(env.IWOMP_JOB_ID);
  const fetchTimeout = optionalVar(env.IWOMP_FETCH_TIMEOUT);
  const jobTimeout = optionalVar(env.IWOMP_JOB_TIMEOUT);
  const buildUrl = optionalVar(env.CODEBUILD_BUILD_URL);
  return {
    configPath: readVar('CONFIGPATH', () =>
      parseConfigPath(optionalVar(env.CONFIGPATH) ?? DEFAULT_CONFIG_PATH),
    ),
    project: readVar('PROJECTNAME', () => parseProjectName(requiredVar(env.PROJECTNAME))),
    branch: readVar('GITBRANCH', () => parseBranchName(requiredVar(env.GITBRANCH))),
    ...(commit === undefined ? {} : { commit: readVar('GITCOMMIT', () => parseCommit(commit)) }),
    registry,
    local: flagVar('IWOMP_LOCAL', env.IWOMP_LOCAL),
    ...(workRoot === undefined ? {} : { workRoot }),
    keepWorkDir:
      optionalVar(env.IWOMP_KEEP_WORKDIR) === undefined
        ? optionalVar(env.CODEBUILD_BUILD_ID) !== undefined
        : flagVar('IWOMP_KEEP_WORKDIR', env.IWOMP_KEEP_WORKDIR),
    ...(runAs === undefined ? {} : { runAs: readVar('IWOMP_RUN_AS', () => parseUserName(runAs)) }),
    ...(buildId === undefined ? {} : { buildId }),
    ...(fetchTimeout === undefined
      ? {}
      : { fetchTimeoutSeconds: parseSeconds('IWOMP_FETCH_TIMEOUT', fetchTimeout) }),
    ...(jobTimeout === undefined ? {} : { jobTimeoutSeconds: parseSeconds('IWOMP_JOB_TIMEOUT', jobTimeout) }),
    ...(buildUrl === undefined ? {} : { buildUrl: parseBuildUrl(buildUrl) }),
  };
}

/** Where a build reports to, when the launcher started it for a trigger. */
export interface DeployTableEnv {
  /** `IWOMP_DEPLOY_TABLE` and `IWOMP_TRIGGER_ID`, when both are set. */
  readonly target?: { readonly tableName: string; readonly triggerId: string };
  /** A line for the log when only the table is set: the build reports to no record. */
  readonly note?: string;
}

// DynamoDB's table name rule.
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
// The launcher's rule for an SNS MessageId (launcher/handle-sns-event.ts): the record's key.
const TRIGGER_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * `IWOMP_DEPLOY_TABLE` (set on the worker project) and `IWOMP_TRIGGER_ID` (set per build by the
 * launcher). Read before the rest of the environment, so even a worker whose other variables are
 * wrong reports its outcome to its record. A build started by hand has the table but no trigger:
 * it runs, and reports nowhere.
 */
export function parseDeployTableEnv(env: NodeJS.ProcessEnv): DeployTableEnv {
  const table = optionalVar(env.IWOMP_DEPLOY_TABLE);
  const trigger = optionalVar(env.IWOMP_TRIGGER_ID);
  if (table !== undefined && !TABLE_NAME.test(table)) {
    throw new EnvironmentError(
      'IWOMP_DEPLOY_TABLE',
      `expected a DynamoDB table name (3-255 of [A-Za-z0-9_.-]), got ${quote(table)}`,
    );
  }
  if (trigger !== undefined && !TRIGGER_ID.test(trigger)) {
    throw new EnvironmentError(
      'IWOMP_TRIGGER_ID',
      `expected a trigger id (1-128 of [A-Za-z0-9._:-]), got ${quote(trigger)}`,
    );
  }
  if (table === undefined) return {};
  if (trigger === undefined) {
    return { note: 'IWOMP_TRIGGER_ID is not set: this build reports to no deploy record' };
  }
  return { target: { tableName: table, triggerId: trigger } };
}

/** The build's page, linked from the commit status: an https URL (CodeBuild's console). */
function parseBuildUrl(value: string): string {
  if (!URL.canParse(value) || new URL(value).protocol !== 'https:' || /[\s\p{Cc}]/u.test(value)) {
    throw new EnvironmentError('CODEBUILD_BUILD_URL', `expected an https:// URL, got ${quote(value)}`);
  }
  return value;
}

/** A whole number of seconds, 1 to 36 hours (CodeBuild's longest build). */
function parseSeconds(name: string, value: string): number {
  const seconds = /^[1-9][0-9]{0,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(seconds <= 36 * 3600)) {
    throw new EnvironmentError(
      name,
      `expected a whole number of seconds from 1 to 129600, got ${JSON.stringify(value)}`,
    );
  }
  return seconds;
}

const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

function parseUserName(value: string): string {
  if (!USER_NAME.test(value)) {
    throw new EnvironmentError(
      'IWOMP_RUN_AS',
      `expected a user name like codebuild-user, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}
