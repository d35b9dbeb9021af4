/** The infrastructure's public API, for your own CDK apps. */
export { IwompDeployRole, type IwompDeployRoleProps } from './deploy-role.js';
export { PipelinePropsError } from './errors.js';
export type { GithubActionsRoleOptions } from './github-actions.js';
export {
  CDK_CLI_VERSION,
  DEFAULT_RECONCILE_INTERVAL,
  DEFAULT_RETENTION,
  FAILURE_RETENTION,
  type GrantWatchOptions,
  IwompPipeline,
  type IwompPipelineProps,
  LAUNCHER_MAX_EVENT_AGE,
  LAUNCHER_RETRY_ATTEMPTS,
  type TriggerTopicOptions,
} from './iwomp-pipeline.js';
export { type EcrWorkerImageOptions, type ManagedWorkerImageOptions, WorkerImage } from './worker-image.js';
