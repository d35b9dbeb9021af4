import { parseWorkerProjectName } from '../adapters/aws/codebuild-job-launcher.js';
import { DEFAULT_RETENTION_DAYS } from '../adapters/aws/dynamo-deploy-store.js';
import { optionalVar, readVar, requiredVar } from '../core/env-vars.js';
import { InvalidInputError } from '../core/errors.js';
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
  /** `IWOMP_DEPLOY_TABLE`: the deploy table (records and lanes). */
  readonly deployTable: string;
  /** `IWOMP_RETENTION_DAYS`, default 90: how long a record is kept (its TTL). */
  readonly retentionDays: number;
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
    deployTable: readVar('IWOMP_DEPLOY_TABLE', () => parseTableName(requiredVar(env.IWOMP_DEPLOY_TABLE))),
    retentionDays: readVar('IWOMP_RETENTION_DAYS', () =>
      parseRetentionDays(optionalVar(env.IWOMP_RETENTION_DAYS)),
    ),
  };
}

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

/** A DynamoDB table name: 3 to 255 of `[A-Za-z0-9_.-]`. */
function parseTableName(value: string): string {
  if (!TABLE_NAME.test(value)) {
    throw new InvalidInputError(
      'value',
      `expected a DynamoDB table name (3-255 of [A-Za-z0-9_.-]), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** Whole days, 1 to 3650 (ten years: longer is a mistake, not a retention). */
function parseRetentionDays(value: string | undefined): number {
  if (value === undefined) return DEFAULT_RETENTION_DAYS;
  const days = Number(value);
  if (!/^\d+$/.test(value) || days < 1 || days > 3650) {
    throw new InvalidInputError('value', `expected whole days from 1 to 3650, got ${JSON.stringify(value)}`);
  }
  return days;
}
