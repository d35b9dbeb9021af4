import { DEFAULT_CONFIG_PATH } from '../../core/names.js';
import { handleTrigger, type TriggerOutcome } from '../../launcher/handle-trigger.js';
import type { LocalJobRecord } from '../../local/job-record.js';
import type { JobStore } from '../../local/job-store.js';
import type { ProjectQueue } from '../../local/project-queue.js';
import type { LocalPaths } from '../../local/state-dir.js';
import type { FollowHooks, JobTracker } from '../../ports/job-tracker.js';
import { loadProjectConfig, type Registry } from '../../ports/registry.js';
import { createRegistry } from '../create-registry.js';
import { LocalJobTracker } from './local-job-tracker.js';
import { ProcessJobLauncher, type ProcessJobLauncherProps } from './process-job-launcher.js';

/** What a trigger says, before validation: `handleTrigger` checks it exactly as the Lambda does. */
export interface RawTrigger {
  readonly project: unknown;
  readonly branch: unknown;
  readonly commit?: unknown;
}

export interface LocalBackendProps extends ProcessJobLauncherProps {
  /**
   * The registry adapter to check triggers against. It must be the one `registry` names, which
   * the worker reads: the CLI passes the adapter it already built (with its SDK clients).
   * @default - built from `registry`
   */
  readonly registryAdapter?: Registry;
}

/**
 * The whole pipeline on one machine: the folder registry under `<state>/registry` (or the one
 * `registry` names), the process job launcher, and the job store, all in one state directory. Triggers go through the same
 * `handleTrigger` as the Lambda.
 *
 * @example
 * const local = new LocalBackend({ stateDir: '.iwomp' });
 * const outcome = await local.trigger({ project: 'demo', branch: 'main' });
 * if (outcome.outcome === 'accepted') await local.follow(outcome.jobId, { onOutput: (t) => process.stdout.write(t) });
 */
export class LocalBackend {
  readonly paths: LocalPaths;
  /** Where triggers are checked; the worker reads the same one. */
  readonly registry: Registry;
  readonly launcher: ProcessJobLauncher;
  /** Where the jobs' records and logs are read back. */
  readonly tracker: LocalJobTracker;
  readonly store: JobStore;
  readonly queue: ProjectQueue;

  constructor(props: LocalBackendProps) {
    // The lane mode comes from the registry the trigger was checked against, as the Lambda's does.
    this.launcher = new ProcessJobLauncher({
      laneMode: async (project) => (await loadProjectConfig(this.registry, project)).concurrency,
      ...props,
    });
    this.paths = this.launcher.paths;
    this.tracker = new LocalJobTracker(this.paths.root);
    this.store = this.tracker.store;
    this.queue = this.tracker.queue;
    this.registry =
      props.registryAdapter ??
      createRegistry(this.launcher.registrySpec, props.configPath ?? DEFAULT_CONFIG_PATH);
  }

  /**
   * Accepted: a job is queued and its id returned. Rejected: nothing is created, and the reason
   * says why. Throws when the state directory or registry cannot be read or written.
   */
  trigger(
    message: RawTrigger | string,
    options: { idempotencyToken?: string } = {},
  ): Promise<TriggerOutcome> {
    const text = typeof message === 'string' ? message : JSON.stringify(message);
    return handleTrigger(text, { registry: this.registry, launcher: this.launcher }, options);
  }

  /** Follows a job to its end (see JobTracker.follow). */
  follow(id: string, hooks: FollowHooks<LocalJobRecord> = {}): Promise<LocalJobRecord> {
    return this.tracker.follow(id, hooks);
  }

  show(id: string): Promise<LocalJobRecord> {
    return this.tracker.get(id);
  }

  list(): ReturnType<JobTracker<LocalJobRecord>['list']> {
    return this.tracker.list();
  }

  logPath(id: string): string {
    return this.tracker.logLocation(id);
  }
}
