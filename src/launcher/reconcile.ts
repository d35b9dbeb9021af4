import type { JobStatus, JobStatusReader } from '../ports/job-launcher.js';
import { DeployLifecycle, type LifecycleDeps } from './deploy-lifecycle.js';

export interface ReconcileDeps extends LifecycleDeps {
  /** Reads the builds the lanes hold (AWS: BatchGetBuilds). */
  readonly statuses: JobStatusReader;
}

/** What one reconcile did, lane by lane; logged as one line. */
export interface ReconcileSummary {
  readonly lanes: number;
  /** Holders whose build had ended without its event reaching the launcher: closed and released. */
  readonly closed: number;
  /** Holders without a build id whose lease had passed: started again. */
  readonly restarted: number;
  /** Idle lanes with waiting triggers (deferred for the build limit): resumed. */
  readonly resumed: number;
  /** Lanes that could not be reconciled this time (logged; the next run tries again). */
  readonly errors: number;
}

/**
 * The safety net that runs on a schedule (every minute by default): whatever an event lost or a
 * launcher left half-done, every lane ends up holding a running build or nothing.
 * - a holder's build that ended (its state-change event lost) is closed as the event would have;
 * - a holder without a build id whose lease passed (its launcher died before StartBuild
 *   answered) is started again, with the same idempotency token;
 * - an idle lane with waiting triggers (deferred for the account's build limit, or after a failed
 *   StartBuild) is resumed.
 * A lane that fails is logged and left to the next run; the others go on.
 */
export async function reconcile(deps: ReconcileDeps): Promise<ReconcileSummary> {
  const lifecycle = new DeployLifecycle(deps);
  const nowSeconds = Math.floor((deps.now?.() ?? new Date()).getTime() / 1000);
  const lanes = await deps.store.listLanes();
  let closed = 0;
  let restarted = 0;
  let resumed = 0;
  let errors = 0;
  const guard = async (project: string, work: () => Promise<void>) => {
    try {
      await work();
    } catch (error) {
      errors++;
      deps.logger.error('reconcile: lane left for the next run', {
        project,
        reason: `${(error as Error)?.name}: ${String((error as Error)?.message).split('\n')[0]}`,
      });
    }
  };

  const withBuild = lanes.filter(
    (l) => l.stored.lane.holder !== undefined && l.stored.holderBuildId !== undefined,
  );
  let statuses = new Map<string, JobStatus>();
  if (withBuild.length > 0) {
    const found = await deps.statuses.statuses(withBuild.map((l) => l.stored.holderBuildId as string));
    statuses = new Map(found.map((s) => [s.id, s]));
  }
  for (const { project, stored } of lanes) {
    const holder = stored.lane.holder;
    if (holder !== undefined && stored.holderBuildId !== undefined) {
      const buildId = stored.holderBuildId;
      const status = statuses.get(buildId);
      // A build CodeBuild no longer knows cannot end by itself: it is closed as a fault.
      const ended = status === undefined ? 'FAULT' : status.status;
      if (ended === 'IN_PROGRESS') continue;
      await guard(project, async () => {
        const record = await deps.store.get(holder.id);
        if (record === undefined) return;
        if (await lifecycle.closeBuild(record, ended, buildId, status?.logUrl)) closed++;
      });
    } else if (holder !== undefined) {
      if (stored.leaseUntil !== undefined && stored.leaseUntil > nowSeconds) continue;
      await guard(project, async () => {
        const started = await lifecycle.startHolder(project, holder.id);
        if (started.outcome === 'started') restarted++;
      });
    } else if (stored.lane.waiting.length > 0) {
      const head = stored.lane.waiting[0]?.id as string;
      await guard(project, async () => {
        const started = await lifecycle.startHolder(project, head);
        if (started.outcome === 'started') resumed++;
      });
    }
  }
  const summary = { lanes: lanes.length, closed, restarted, resumed, errors };
  deps.logger.info('reconcile done', { ...summary });
  return summary;
}
