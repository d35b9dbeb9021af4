import { parseWorkerProjectName } from '../adapters/aws/codebuild-job-launcher.js';
import { optionalVar, readVar, requiredVar } from '../core/env-vars.js';
import { DEFAULT_CONFIG_PATH, parseConfigPath } from '../core/names.js';

/** The launcher Lambda's environment, read once at the edge. Names are the seed's. */
export interface LauncherEnv {
  /** `CONFIGPATH`, default `iwomp-in-aws`: the registry root in SSM Parameter Store. */
  readonly configPath: string;
  /** `WORKER_PROJECT_NAME`: the CodeBuild project that runs the worker (name or ARN). */
  readonly workerProject: string;
}

/** Reads and checks the launcher's environment; every problem names its variable. */
export function parseLauncherEnv(env: NodeJS.ProcessEnv): LauncherEnv {
  return {
    configPath: readVar('CONFIGPATH', () =>
      parseConfigPath(optionalVar(env.CONFIGPATH) ?? DEFAULT_CONFIG_PATH),
    ),
    workerProject: readVar('WORKER_PROJECT_NAME', () =>
      parseWorkerProjectName(requiredVar(env.WORKER_PROJECT_NAME)),
    ),
  };
}
