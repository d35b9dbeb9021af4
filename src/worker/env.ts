import { parseRegistrySpec, type RegistrySpec } from '../adapters/create-registry.js';
import { EnvironmentError, IwompError } from '../core/errors.js';
import { parseBranchName, parseCommit, parseConfigPath, parseProjectName } from '../core/names.js';

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
}

/** Reads and checks the worker's environment; every problem names its variable. */
export function parseWorkerEnv(env: NodeJS.ProcessEnv): WorkerEnv {
  const registry = parseRegistrySpec(env.IWOMP_REGISTRY);
  const commit = optional(env.GITCOMMIT);
  const workRoot = optional(env.IWOMP_WORKDIR);
  return {
    configPath: check('CONFIGPATH', () => parseConfigPath(optional(env.CONFIGPATH) ?? 'iwomp-in-aws')),
    project: check('PROJECTNAME', () => parseProjectName(required(env.PROJECTNAME))),
    branch: check('GITBRANCH', () => parseBranchName(required(env.GITBRANCH))),
    ...(commit === undefined ? {} : { commit: check('GITCOMMIT', () => parseCommit(commit)) }),
    registry,
    local: flag('IWOMP_LOCAL', env.IWOMP_LOCAL),
    ...(workRoot === undefined ? {} : { workRoot }),
    keepWorkDir:
      optional(env.IWOMP_KEEP_WORKDIR) === undefined
        ? optional(env.CODEBUILD_BUILD_ID) !== undefined
        : flag('IWOMP_KEEP_WORKDIR', env.IWOMP_KEEP_WORKDIR),
  };
}

export function optional(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function required(value: string | undefined): string {
  if (value === undefined || value === '') throw new IwompError('is required');
  return value;
}

function flag(name: string, value: string | undefined): boolean {
  if (value === undefined || value === '' || value === '0' || value === 'false') return false;
  if (value === '1' || value === 'true') return true;
  throw new EnvironmentError(name, `expected 1 or 0, got ${JSON.stringify(value)}`);
}

function check<T>(variable: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof IwompError) throw new EnvironmentError(variable, error.message, { cause: error });
    throw error;
  }
}
