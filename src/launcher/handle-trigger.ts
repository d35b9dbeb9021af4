import { assertBranchAllowed } from '../core/branch-policy.js';
import { parseTriggerMessage, type TriggerMessage } from '../core/trigger-message.js';
import type { JobLauncher } from '../ports/job-launcher.js';
import { loadProjectConfig, type Registry } from '../ports/registry.js';
import { dispositionOf } from './disposition.js';

/** How one trigger ended. A transient failure is not an outcome: it is thrown, so the trigger is retried. */
export type TriggerOutcome =
  | { readonly outcome: 'accepted'; readonly message: TriggerMessage; readonly jobId: string }
  | { readonly outcome: 'rejected'; readonly message?: TriggerMessage; readonly reason: string };

export interface HandleTriggerDeps {
  readonly registry: Registry;
  readonly launcher: JobLauncher;
}

/**
 * The launcher's decision, shared by the Lambda and local mode: validate the message, check the
 * project is registered with a valid config and the branch is allowed, then start one job.
 * Permanent problems are `rejected` (retrying cannot help); registry and launcher failures throw.
 */
export async function handleTrigger(
  text: string,
  deps: HandleTriggerDeps,
  options: {
    idempotencyToken?: string;
    /** Why the channel the trigger came through may not trigger this project (scoped topics). */
    refuseProject?: (project: string) => string | undefined;
  } = {},
): Promise<TriggerOutcome> {
  let message: TriggerMessage;
  try {
    message = parseTriggerMessage(text);
  } catch (error) {
    if (dispositionOf(error).outcome === 'rejected')
      return { outcome: 'rejected', reason: (error as Error).message };
    throw error;
  }
  const refusal = options.refuseProject?.(message.project);
  if (refusal !== undefined) return { outcome: 'rejected', message, reason: refusal };
  let timeoutMinutes: number | undefined;
  try {
    const config = await loadProjectConfig(deps.registry, message.project);
    assertBranchAllowed(message.project, message.branch, config.branches);
    timeoutMinutes = config.timeoutMinutes;
  } catch (error) {
    if (dispositionOf(error).outcome === 'rejected')
      return { outcome: 'rejected', message, reason: (error as Error).message };
    throw error;
  }
  const job = await deps.launcher.start({
    project: message.project,
    branch: message.branch,
    ...(message.commit === undefined ? {} : { commit: message.commit }),
    ...(options.idempotencyToken === undefined ? {} : { idempotencyToken: options.idempotencyToken }),
    ...(timeoutMinutes === undefined ? {} : { timeoutMinutes }),
  });
  return { outcome: 'accepted', message, jobId: job.id };
}
