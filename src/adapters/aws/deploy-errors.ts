import {
  IwompError,
  type IwompErrorOptions,
  type ServiceErrorOptions,
  type ServiceFailure,
} from '../../core/errors.js';

/** No deploy record with this id in the deploy table. */
export class DeployNotFoundError extends IwompError {
  readonly category = 'not-found';

  constructor(message: string, options?: IwompErrorOptions) {
    super(message, options);
    this.name = 'DeployNotFoundError';
  }
}

/** An AWS call about deploys (DynamoDB, CloudWatch Logs, CodeBuild StopBuild) failed. */
export class DeployServiceError extends IwompError {
  readonly category: ServiceFailure;

  constructor(message: string, options: ServiceErrorOptions = {}) {
    super(message, options);
    this.name = 'DeployServiceError';
    this.category = options.category ?? 'unavailable';
  }
}

interface SdkErrorShape {
  readonly name?: string;
  readonly message?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

// Answers no retry can cure: the caller may not read (grantWatch without { logs: true }), or has no
// valid credentials. Throttling, 5xx and the network may pass.
const NEEDS_A_FIX = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'ResourceNotFoundException',
]);

/** One line for a failed AWS call, with the category the SDK's answer says. */
export function deployServiceError(what: string, error: unknown): DeployServiceError {
  const e = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorShape;
  const name = e.name ?? 'Error';
  const detail = `${name}: ${(e.message ?? String(error)).split('\n')[0]}`;
  const category: ServiceFailure =
    NEEDS_A_FIX.has(name) || e.$metadata?.httpStatusCode === 403 ? 'misconfigured' : 'unavailable';
  return new DeployServiceError(`${what}: ${detail}`, { cause: error, category });
}
