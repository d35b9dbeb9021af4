import { assertBranchAllowed } from '../core/branch-policy.js';
import type { ProjectConfig } from '../core/project-config.js';
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

/** A trigger checked against the registry: valid (with its project's config), or rejected. */
export type TriggerCheck =
  | { readonly outcome: 'valid'; readonly message: TriggerMessage; readonly config: ProjectConfig }
  | { readonly outcome: 'rejected'; readonly message?: TriggerMessage; readonly reason: string };

export interface TriggerCheckOptions {
  /** Why the channel the trigger came through may not trigger this project (scoped topics). */
  readonly refuseProject?: (project: string) => string | undefined;
}

/**
 * The launcher's check, shared by the Lambda and local mode: the message is valid, the project is
 * registered with a valid config, the branch is allowed. Permanent problems are `rejected`
 * (retrying cannot help); registry failures throw.
 */
export async function checkTrigger(
  text: string,
  deps: Pick<HandleTriggerDeps, 'registry'>,
  options: TriggerCheckOptions = {},
): Promise<TriggerCheck> {
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
  try {
    const config = await loadProjectConfig(deps.registry, message.project);
    assertBranchAllowed(message.project, message.branch, config.branches);
    return { outcome: 'valid', message, config };
  } catch (error) {
    if (dispositionOf(error).outcome === 'rejected')
      return { outcome: 'rejected', message, reason: (error as Error).message };
    throw error;
  }
}

/**
 * The check, then one job started at once: local mode's path, and the Lambda's when it keeps no
 * records. Launcher failures throw.
 */
export async function handleTrigger(
  text: string,
  deps: HandleTriggerDeps,
  options: TriggerCheckOptions & { idempotencyToken?: string } = {},
): Promise<TriggerOutcome> {
  const check = await checkTrigger(text, deps, options);
  if (check.outcome === 'rejected') return check;
  const { message, config } = check;
  const job = await deps.launcher.start({
    project: message.project,
    branch: message.branch,
    ...(message.commit === undefined ? {} : { commit: message.commit }),
    ...(options.idempotencyToken === undefined ? {} : { idempotencyToken: options.idempotencyToken }),
    ...(config.timeoutMinutes === undefined ? {} : { timeoutMinutes: config.timeoutMinutes }),
  });
  return { outcome: 'accepted', message, jobId: job.id };
}
