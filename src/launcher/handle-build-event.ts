import { buildPageUrl, TRIGGER_ID_VAR } from '../adapters/aws/codebuild-job-launcher.js';
import { BUILD_STATUSES, type BuildStatus, type DeployRecord } from '../core/deploy-record.js';
import { isFinished } from '../core/job-record.js';
import { DeployLifecycle, type LifecycleDeps } from './deploy-lifecycle.js';

/** EventBridge's detail-type and source of CodeBuild's build state changes. */
export const BUILD_STATE_CHANGE = 'CodeBuild Build State Change';
export const CODEBUILD_SOURCE = 'aws.codebuild';

export interface BuildEventDeps extends LifecycleDeps {
  /** The worker's CodeBuild project (`WORKER_PROJECT_NAME`, a name or an ARN): events of others are ignored. */
  readonly workerProject: string;
}

/** What one state-change event did; logged as one line either way. */
export type BuildEventOutcome =
  | { readonly outcome: 'running'; readonly id: string; readonly buildId: string }
  | { readonly outcome: 'closed'; readonly id: string; readonly buildId: string; readonly state: string }
  | { readonly outcome: 'ignored'; readonly reason: string; readonly buildId?: string };

/** The fields of a "CodeBuild Build State Change" event the launcher reads (AWS's documented shape). */
interface BuildStateChange {
  readonly projectName: string;
  readonly status: BuildStatus;
  /** `<project>:<uuid>`, as StartBuild returned it (the event carries the build's ARN). */
  readonly buildId: string;
  readonly buildArn: string;
  readonly env: ReadonlyMap<string, string>;
  readonly deepLink?: string;
}

/**
 * A CodeBuild build of the worker changed state: `IN_PROGRESS` marks its record `running`; a final
 * status closes the record (the worker's own outcome where it reported one), releases the
 * project's lane, starts the next waiting trigger and publishes the result.
 *
 * The record is found by the build's `IWOMP_TRIGGER_ID` variable, else as the build of its
 * project's lane holder. An event for another project, an unknown build or in an unexpected shape
 * is ignored with a log line and never thrown: EventBridge would only send it again. A failure of
 * the table is thrown, so EventBridge retries the event.
 */
export async function handleBuildEvent(event: unknown, deps: BuildEventDeps): Promise<BuildEventOutcome> {
  const outcome = await handle(event, deps);
  const line = { ...outcome };
  if (outcome.outcome === 'ignored') deps.logger.warn('build event ignored', line);
  else deps.logger.info(`build event: ${outcome.outcome}`, line);
  return outcome;
}

async function handle(event: unknown, deps: BuildEventDeps): Promise<BuildEventOutcome> {
  const change = parseBuildStateChange(event);
  if (typeof change === 'string') return { outcome: 'ignored', reason: change };
  const { buildId } = change;
  if (change.projectName !== projectNameOf(deps.workerProject)) {
    return {
      outcome: 'ignored',
      reason: `a build of ${change.projectName}, not of the worker project`,
      buildId,
    };
  }
  const record = await findRecord(change, deps);
  if (record === undefined) {
    return { outcome: 'ignored', reason: 'no deploy record names this build', buildId };
  }
  if (record.buildId !== undefined && record.buildId !== buildId) {
    return { outcome: 'ignored', reason: `record ${record.id} belongs to build ${record.buildId}`, buildId };
  }
  const lifecycle = new DeployLifecycle(deps);
  const logUrl = buildPageUrl(change.buildArn, buildId) ?? change.deepLink;
  if (change.status === 'IN_PROGRESS') {
    if (record.state !== 'queued' && record.state !== 'started') {
      return { outcome: 'ignored', reason: `record ${record.id} is already ${record.state}`, buildId };
    }
    await lifecycle.recordBuild(record, buildId, logUrl, 'running');
    return { outcome: 'running', id: record.id, buildId };
  }
  if (isFinished(record.state)) {
    return { outcome: 'ignored', reason: `record ${record.id} is already ${record.state}`, buildId };
  }
  const closed = await lifecycle.closeBuild(record, change.status, buildId, logUrl);
  return { outcome: 'closed', id: record.id, buildId, state: closed?.state ?? record.state };
}

async function findRecord(change: BuildStateChange, deps: BuildEventDeps): Promise<DeployRecord | undefined> {
  const id = change.env.get(TRIGGER_ID_VAR);
  if (id !== undefined && TRIGGER_ID.test(id)) return deps.store.get(id);
  // A build started before records existed, or by hand with the same variables: only the lane
  // knows it, if it holds it.
  const project = change.env.get('PROJECTNAME');
  if (project === undefined || !PROJECT.test(project)) return undefined;
  const stored = await deps.store.readLane(project);
  if (stored.holderBuildId !== change.buildId || stored.lane.holder === undefined) return undefined;
  return deps.store.get(stored.lane.holder.id);
}

// The ids the launcher gives (checked SNS MessageIds) and project names, loosely: they only select
// a record to read, and an id that names none is ignored.
const TRIGGER_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const PROJECT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The project name of a CodeBuild project name or ARN (`arn:…:project/<name>`). */
function projectNameOf(nameOrArn: string): string {
  const at = nameOrArn.indexOf(':project/');
  return at === -1 ? nameOrArn : nameOrArn.slice(at + ':project/'.length);
}

/** The event's fields, or why it is not a usable build state change. */
export function parseBuildStateChange(event: unknown): BuildStateChange | string {
  const e = event as Record<string, unknown> | null;
  if (typeof e !== 'object' || e === null) return 'not an object';
  if (e['detail-type'] !== BUILD_STATE_CHANGE || e.source !== CODEBUILD_SOURCE) {
    return `not a ${BUILD_STATE_CHANGE} event`;
  }
  const detail = e.detail as Record<string, unknown> | undefined;
  const projectName = detail?.['project-name'];
  const status = detail?.['build-status'];
  const buildArn = detail?.['build-id'];
  if (typeof projectName !== 'string' || typeof buildArn !== 'string') return 'no project-name or build-id';
  if (typeof status !== 'string' || !(BUILD_STATUSES as readonly string[]).includes(status)) {
    return `build-status ${JSON.stringify(status)} is not one the launcher knows`;
  }
  const info = detail?.['additional-information'] as Record<string, unknown> | undefined;
  const environment = info?.environment as Record<string, unknown> | undefined;
  const variables = environment?.['environment-variables'];
  const env = new Map<string, string>();
  if (Array.isArray(variables)) {
    for (const v of variables as Array<Record<string, unknown>>) {
      // Only PLAINTEXT values are the values themselves (others name a parameter or a secret).
      if (
        typeof v?.name === 'string' &&
        typeof v.value === 'string' &&
        (v.type ?? 'PLAINTEXT') === 'PLAINTEXT'
      ) {
        env.set(v.name, v.value);
      }
    }
  }
  const deepLink = (info?.logs as Record<string, unknown> | undefined)?.['deep-link'];
  const at = buildArn.indexOf(':build/');
  return {
    projectName,
    status: status as BuildStatus,
    buildId: at === -1 ? buildArn : buildArn.slice(at + ':build/'.length),
    buildArn,
    env,
    ...(typeof deepLink === 'string' ? { deepLink } : {}),
  };
}
