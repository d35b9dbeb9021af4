import { JOB_PHASES, type JobPhase } from './job-record.js';

/**
 * What the worker tells whoever runs it, apart from its log: which step it is in, and how it
 * ended. One JSON object per line on a channel of its own (local mode: a pipe on fd 3, which the
 * deploy command never inherits), so no log line, nor anything the deploy command prints, can be
 * taken for a report.
 */
export type WorkerReport =
  | { readonly type: 'phase'; readonly phase: JobPhase }
  /** The branch is checked out at `commit` (the commit the deploy runs, whatever the trigger named). */
  | { readonly type: 'checkout'; readonly commit: string }
  /** The deploy command started, leading its own process group `pid`: it may outlive the worker. */
  | { readonly type: 'command'; readonly pid: number }
  | {
      readonly type: 'outcome';
      readonly exitCode: number;
      /** The one-line reason, when the deploy did not succeed; redacted. */
      readonly reason?: string;
      /** The commit that was checked out, once known. */
      readonly commit?: string;
    };

export function formatWorkerReport(report: WorkerReport): string {
  return `${JSON.stringify(report)}\n`;
}

/** One line of the channel; undefined for anything that is not a well-formed report. */
export function parseWorkerReport(line: string): WorkerReport | undefined {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null) return undefined;
  const r = json as Record<string, unknown>;
  if (r.type === 'phase' && (JOB_PHASES as readonly unknown[]).includes(r.phase)) {
    return { type: 'phase', phase: r.phase as JobPhase };
  }
  if (r.type === 'checkout' && typeof r.commit === 'string') {
    return { type: 'checkout', commit: r.commit };
  }
  if (r.type === 'command' && Number.isInteger(r.pid) && (r.pid as number) > 1) {
    return { type: 'command', pid: r.pid as number };
  }
  if (r.type === 'outcome' && Number.isInteger(r.exitCode)) {
    return {
      type: 'outcome',
      exitCode: r.exitCode as number,
      ...(typeof r.reason === 'string' ? { reason: r.reason } : {}),
      ...(typeof r.commit === 'string' ? { commit: r.commit } : {}),
    };
  }
  return undefined;
}
