import { categoryOf, unreachable } from '../core/errors.js';

/**
 * What the launcher does with a trigger that did not start a job, decided by the error's category
 * alone: `rejected` when the message can never be accepted (logged once, not retried), otherwise
 * `failed`, thrown so that Lambda retries and then keeps it in the on-failure queue. A failure is
 * `transient` when waiting may cure it, `configuration` when the pipeline's setup must be fixed
 * first (then the kept trigger can be replayed).
 */
export type Disposition =
  | { readonly outcome: 'rejected' }
  | { readonly outcome: 'failed'; readonly kind: 'transient' | 'configuration' };

const REJECTED: Disposition = { outcome: 'rejected' };
const TRANSIENT: Disposition = { outcome: 'failed', kind: 'transient' };
const CONFIGURATION: Disposition = { outcome: 'failed', kind: 'configuration' };

export function dispositionOf(error: unknown): Disposition {
  const category = categoryOf(error);
  switch (category) {
    case 'invalid-input':
    case 'not-found':
    case 'invalid-config':
    case 'policy':
      return REJECTED;
    // The message was valid: it must not be dropped because the pipeline cannot act on it yet.
    case 'misconfigured':
    case 'environment':
    case 'deploy-role':
      return CONFIGURATION;
    case 'unavailable':
    // Not raised by the launcher's own steps; retried rather than dropped, since a retry is cheap
    // and a dropped trigger is a deploy that silently never happens.
    case 'clone':
    case 'superseded':
    case 'command':
    case 'usage':
    case 'internal':
      return TRANSIENT;
    default:
      return unreachable(category);
  }
}
