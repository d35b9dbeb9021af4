import { BUILD_STATE_CHANGE, CODEBUILD_SOURCE } from './handle-build-event.js';

/** Which of the launcher's three jobs an invocation is, from the event's shape alone. */
export type LauncherEventKind = 'sns' | 'build-state-change' | 'scheduled';

/**
 * SNS deliveries have `Records`; EventBridge events have `detail-type` and `source`: CodeBuild's
 * build state changes, and the schedule's "Scheduled Event" (source `aws.events`) that runs the
 * reconcile. Anything else goes to the SNS handler, which rejects it with one log line, as before
 * build events existed.
 */
export function routeEvent(event: unknown): LauncherEventKind {
  if (typeof event !== 'object' || event === null || 'Records' in event) return 'sns';
  const e = event as { 'detail-type'?: unknown; source?: unknown };
  if (e['detail-type'] === BUILD_STATE_CHANGE && e.source === CODEBUILD_SOURCE) return 'build-state-change';
  if (e['detail-type'] === 'Scheduled Event' && e.source === 'aws.events') return 'scheduled';
  return 'sns';
}
