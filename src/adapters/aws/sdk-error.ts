import { EnvironmentError, type ServiceFailure } from '../../core/errors.js';

/**
 * What every AWS adapter needs from an SDK error: one line saying what AWS answered, and whether
 * waiting can cure it. Decided here, where the SDK's error is known, so each adapter's own error
 * class carries the category the launcher and the CLI react to.
 */

interface SdkErrorShape {
  readonly name?: string;
  readonly message?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

// Answers no retry can cure, whatever the service: the caller may not make the call, or has no
// valid credentials. Throttling, 5xx and the network may pass.
const NEEDS_A_FIX: ReadonlySet<string> = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'ExpiredTokenException',
]);

const shapeOf = (error: unknown): SdkErrorShape =>
  (typeof error === 'object' && error !== null ? error : {}) as SdkErrorShape;

/** `Name: first line of the message`: an SDK error as one log or error line. */
export function sdkErrorText(error: unknown): string {
  const e = shapeOf(error);
  return `${e.name ?? 'Error'}: ${(e.message ?? String(error)).split('\n')[0]}`;
}

/**
 * `misconfigured` when a person must fix the deployment (denied, no valid credentials, or one of
 * the service's own `alsoNeedsFix` answers such as a missing table or KMS key), else `unavailable`.
 */
export function sdkFailure(error: unknown, alsoNeedsFix: ReadonlySet<string> = new Set()): ServiceFailure {
  // The Lambda's credential provider (env-credentials.ts) throws this when it has no credentials.
  if (error instanceof EnvironmentError) return 'misconfigured';
  const e = shapeOf(error);
  const name = e.name ?? '';
  return NEEDS_A_FIX.has(name) || alsoNeedsFix.has(name) || e.$metadata?.httpStatusCode === 403
    ? 'misconfigured'
    : 'unavailable';
}
