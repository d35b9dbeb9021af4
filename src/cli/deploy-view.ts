import type { DeployRecord } from '../core/deploy-record.js';
import type { JobRecord } from '../core/job-record.js';

/**
 * A record as the CLI shows it, whatever its store: the core record, what AWS adds, and local
 * mode's processes. Each store fills what it has.
 */
export type ShownRecord = JobRecord &
  Partial<Pick<DeployRecord, 'buildId' | 'deployedCommit'>> & {
    readonly runnerPid?: number;
    readonly workerPid?: number;
  };

/**
 * A record for `--json`, the same shape in AWS and local mode: the core record's fields, the
 * build and the deployed commit where AWS knows them, and where the log is.
 */
export function deployView(record: ShownRecord, logLocation: string): Record<string, unknown> {
  const optional = <K extends keyof ShownRecord>(key: K) =>
    record[key] === undefined ? {} : { [key]: record[key] };
  return {
    id: record.id,
    project: record.project,
    branch: record.branch,
    ...optional('commit'),
    state: record.state,
    ...optional('phase'),
    ...optional('exitCode'),
    ...optional('error'),
    createdAt: record.createdAt,
    ...optional('startedAt'),
    ...optional('finishedAt'),
    ...optional('buildId'),
    ...optional('deployedCommit'),
    ...(logLocation === '' ? {} : { logLocation }),
  };
}

/**
 * A record's text for a terminal: control characters (an escape sequence in a reason) shown as
 * `\xNN` instead of acting on the terminal or the CI log.
 */
export function printable(text: string): string {
  // Everything but printable ASCII and U+00A0 onwards: C0, DEL and C1 controls.
  return text.replace(
    /[^\x20-\x7e\u{a0}-\u{10ffff}]/gu,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}
