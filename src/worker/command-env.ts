import type { Redactor } from '../core/redact.js';
import type { TemporaryCredentials } from '../ports/deploy-credentials.js';

/** What the deploy command is told about its job. */
export interface CommandJob {
  readonly project: string;
  readonly branch: string;
  readonly commit: string;
}

/** Who the command runs as, when the worker switches user. */
export interface CommandUser {
  readonly name: string;
  readonly home: string;
}

// AWS variables the command may see: where and how to call AWS, never who it is. Every other
// AWS_* variable (keys, tokens, the container credential endpoint, profiles, web identity) is
// the worker's, and is dropped.
const AWS_KEPT = new Set([
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_USE_FIPS_ENDPOINT',
  'AWS_USE_DUALSTACK_ENDPOINT',
  'AWS_STS_REGIONAL_ENDPOINTS',
  'AWS_CA_BUNDLE',
  'AWS_MAX_ATTEMPTS',
  'AWS_RETRY_MODE',
  'AWS_NODEJS_CONNECTION_REUSE_ENABLED',
  'AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE',
  'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED',
]);

// CodeBuild's informational variables; the others (the source directory holding the worker,
// the agent's own settings) describe the worker, not the deploy.
const CODEBUILD_KEPT = new Set([
  'CODEBUILD_BUILD_ARN',
  'CODEBUILD_BUILD_ID',
  'CODEBUILD_BUILD_NUMBER',
  'CODEBUILD_BUILD_IMAGE',
  'CODEBUILD_INITIATOR',
  'CODEBUILD_START_TIME',
  'CODEBUILD_PUBLIC_BUILD_URL',
  'CODEBUILD_BUILD_SUCCEEDING',
]);

// The worker's contract and settings: they point at the registry and the worker's internals.
const WORKER_OWN = new Set(['CONFIGPATH', 'ECS_CONTAINER_METADATA_URI', 'ECS_CONTAINER_METADATA_URI_V4']);

/** Whether a variable of the worker's environment may pass to the deploy command. */
export function passesToCommand(key: string): boolean {
  if (key.startsWith('AWS_')) return AWS_KEPT.has(key) || key.startsWith('AWS_ENDPOINT_URL');
  if (key.startsWith('CODEBUILD_')) return CODEBUILD_KEPT.has(key);
  if (key.startsWith('IWOMP_') || key.startsWith('GIT_CONFIG_')) return false;
  return !WORKER_OWN.has(key);
}

/**
 * The deploy command's environment: the worker's own, less everything that belongs to the
 * worker (its AWS identity, the registry's location, git's settings, any variable holding a
 * registry secret), plus the job, and the deploy role's temporary credentials when the project
 * has one. Without a role the command gets no AWS credentials at all.
 */
export function commandEnvironment(
  inherited: NodeJS.ProcessEnv,
  redactor: Redactor,
  job: CommandJob,
  options: { readonly credentials?: TemporaryCredentials; readonly user?: CommandUser } = {},
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(inherited)) {
    if (value === undefined || !passesToCommand(key)) continue;
    if (redactor.redact(value) !== value) continue;
    env[key] = value;
  }
  const { credentials, user } = options;
  if (credentials !== undefined) {
    env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
    env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
    env.AWS_SESSION_TOKEN = credentials.sessionToken;
    if (credentials.expiration !== undefined)
      env.AWS_CREDENTIAL_EXPIRATION = credentials.expiration.toISOString();
  }
  if (user !== undefined) {
    env.HOME = user.home;
    env.USER = user.name;
    env.LOGNAME = user.name;
  }
  env.IWOMP_PROJECT = job.project;
  env.IWOMP_BRANCH = job.branch;
  env.IWOMP_COMMIT = job.commit;
  return env;
}
