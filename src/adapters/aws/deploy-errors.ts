import {
  IwompError,
  type IwompErrorOptions,
  type ServiceErrorOptions,
  type ServiceFailure,
} from '../../core/errors.js';
import { sdkErrorText, sdkFailure } from './sdk-error.js';

/** No deploy record with this id in the deploy table. */
export class DeployNotFoundError extends IwompError {
  readonly category = 'not-found';

  constructor(message: string, options?: IwompErrorOptions) {
    super(message, options);
    this.name = 'DeployNotFoundError';
  }
}

/**
 * An AWS call about deploys failed: the deploy table (the launcher's records and lanes, the CLI's
 * reads; a lane that kept changing under the launcher too), CloudWatch Logs, CodeBuild StopBuild.
 * Always a failure, never a rejection: in the launcher the trigger is retried and kept.
 */
export class DeployServiceError extends IwompError {
  readonly category: ServiceFailure;

  constructor(message: string, options: ServiceErrorOptions = {}) {
    super(message, options);
    this.name = 'DeployServiceError';
    this.category = options.category ?? 'unavailable';
  }
}

// The table or the log stream does not exist: the names given are wrong, waiting will not help.
const MISSING: ReadonlySet<string> = new Set(['ResourceNotFoundException']);

/** One line for a failed AWS call, with the category the SDK's answer says. */
export function deployServiceError(what: string, error: unknown): DeployServiceError {
  return new DeployServiceError(`${what}: ${sdkErrorText(error)}`, {
    cause: error,
    category: sdkFailure(error, MISSING),
  });
}
