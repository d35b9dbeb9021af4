import { parseWorkerProjectName } from '../adapters/aws/codebuild-job-launcher.js';
import { EnvironmentError, IwompError } from '../core/errors.js';
import { parseConfigPath } from '../core/names.js';

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
    configPath: check('CONFIGPATH', () => parseConfigPath(nonEmpty(env.CONFIGPATH) ?? 'iwomp-in-aws')),
    workerProject: check('WORKER_PROJECT_NAME', () => {
      const value = nonEmpty(env.WORKER_PROJECT_NAME);
      if (value === undefined) throw new IwompError('is required');
      return parseWorkerProjectName(value);
    }),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function check<T>(variable: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof IwompError) throw new EnvironmentError(variable, error.message, { cause: error });
    throw error;
  }
}
