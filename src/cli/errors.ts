import {
  IwompError,
  type IwompErrorOptions,
  type ServiceErrorOptions,
  type ServiceFailure,
} from '../core/errors.js';

/** The command line itself is wrong: an unknown option, a missing argument, options that conflict. */
export class UsageError extends IwompError {
  readonly category = 'usage';

  constructor(message: string, options?: IwompErrorOptions) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/** An AWS call the CLI makes (SNS publish, CloudFormation describe) failed. */
export class AwsServiceError extends IwompError {
  readonly category: ServiceFailure;

  constructor(message: string, options: ServiceErrorOptions = {}) {
    super(message, options);
    this.name = 'AwsServiceError';
    this.category = options.category ?? 'unavailable';
  }
}

/** Something the CLI looked up does not exist: the stack, its `JobTopicArn` output. */
export class NotFoundError extends IwompError {
  readonly category = 'not-found';

  constructor(message: string, options?: IwompErrorOptions) {
    super(message, options);
    this.name = 'NotFoundError';
  }
}

/** The pipeline refused a trigger (local mode decides at once; AWS decides later, in the Lambda). */
export class TriggerRejectedError extends IwompError {
  readonly category = 'policy';

  constructor(message: string, options?: IwompErrorOptions) {
    super(message, options);
    this.name = 'TriggerRejectedError';
  }
}

/** One line for an AWS SDK error: its name and the first line of its message. */
export function awsErrorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message.split('\n')[0]}`;
  return String(error);
}

/**
 * What to do next, for failures whose own message does not say it: the SDK's bare "Region is
 * missing" (no AWS_REGION, no region in the profile). Looks down the `cause` chain, since the
 * adapters wrap SDK errors. Undefined when there is nothing to add.
 */
export function nextStepFor(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    // The SDK throws a plain Error for this, so its message is all there is to go by.
    if (e.message === 'Region is missing') {
      return 'set AWS_REGION (or a region in your AWS profile), or use --local for the local backend';
    }
  }
  return undefined;
}
