import { writeSync } from 'node:fs';
import { formatWorkerReport, type WorkerReport } from '../core/worker-report.js';

/** Where the worker sends its phase and outcome (see core/worker-report.ts). */
export interface WorkerReporter {
  report(report: WorkerReport): void;
}

/** For runs nobody supervises (CodeBuild today, `iwomp worker` by hand): reports go nowhere. */
export const silentReporter: WorkerReporter = { report: () => undefined };

/**
 * Reports as JSON lines on an inherited file descriptor (`IWOMP_REPORT_FD`, local mode's runner
 * passes a pipe on fd 3). Node marks the descriptor close-on-exec, so the deploy command does not
 * inherit it and cannot write a report of its own. Written synchronously: the outcome is sent
 * just before the process exits. A reader that went away does not fail the deploy.
 */
export function fdReporter(fd: number): WorkerReporter {
  let open = true;
  return {
    report(report) {
      if (!open) return;
      try {
        writeSync(fd, formatWorkerReport(report));
      } catch {
        open = false;
      }
    },
  };
}

/** The reporter `IWOMP_REPORT_FD` names: a descriptor number from 3 up, or none. */
export function reporterFor(value: string | undefined): WorkerReporter {
  if (value === undefined || !/^\d{1,4}$/.test(value)) return silentReporter;
  const fd = Number(value);
  return fd >= 3 ? fdReporter(fd) : silentReporter;
}
