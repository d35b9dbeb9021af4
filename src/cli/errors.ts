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
