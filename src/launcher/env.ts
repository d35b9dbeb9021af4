import { parseWorkerProjectName } from '../adapters/aws/codebuild-job-launcher.js';
import { optionalVar, readVar, requiredVar } from '../core/env-vars.js';
import { DEFAULT_CONFIG_PATH, parseConfigPath } from '../core/names.js';
import { parseTopicScopes, TOPIC_PROJECTS_VAR, type TopicScopes } from '../core/topic-scope.js';

/** The launcher Lambda's environment, read once at the edge. Names are the seed's. */
export interface LauncherEnv {
  /** `CONFIGPATH`, default `iwomp-in-aws`: the registry root in SSM Parameter Store. */
  readonly configPath: string;
  /** `WORKER_PROJECT_NAME`: the CodeBuild project that runs the worker (name or ARN). */
  readonly workerProject: string;
  /**
   * `IWOMP_TOPIC_PROJECTS`, set by the construct when it has scoped trigger topics: the projects
   * each of them may trigger. Unset: every topic may trigger every project.
   */
  readonly topicScopes?: TopicScopes;
}

/** Reads and checks the launcher's environment; every problem names its variable. */
export function parseLauncherEnv(env: NodeJS.ProcessEnv): LauncherEnv {
  const scopes = optionalVar(env[TOPIC_PROJECTS_VAR]);
  return {
    configPath: readVar('CONFIGPATH', () =>
      parseConfigPath(optionalVar(env.CONFIGPATH) ?? DEFAULT_CONFIG_PATH),
    ),
    workerProject: readVar('WORKER_PROJECT_NAME', () =>
      parseWorkerProjectName(requiredVar(env.WORKER_PROJECT_NAME)),
    ),
    ...(scopes === undefined ? {} : { topicScopes: parseTopicScopes(scopes) }),
  };
}
