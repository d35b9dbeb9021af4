import { writeSync } from 'node:fs';
import type { WorkerFields } from '../adapters/aws/deploy-table-report.js';
import { formatWorkerReport, type WorkerReport } from '../core/worker-report.js';

/**
 * Where the worker sends its phase, the commit it checked out, and its outcome (see
 * core/worker-report.ts). Every report is made once, at one point of the worker; each channel
 * (local mode's pipe, the deploy table in AWS) takes what it needs from it.
 */
export interface WorkerReporter {
  report(report: WorkerReport): void;
  /** Resolves once every report made so far has been delivered or given up on. Never rejects. */
  settle(): Promise<void>;
}

/** For runs nobody supervises (`iwomp worker` by hand, a build started without a trigger): reports go nowhere. */
export const silentReporter: WorkerReporter = { report: () => undefined, settle: async () => undefined };

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
    settle: async () => undefined,
  };
}

/** The reporter `IWOMP_REPORT_FD` names: a descriptor number from 3 up, or none. */
export function reporterFor(value: string | undefined): WorkerReporter {
  if (value === undefined || !/^\d{1,4}$/.test(value)) return silentReporter;
  const fd = Number(value);
  return fd >= 3 ? fdReporter(fd) : silentReporter;
}

/** Every report to each of `reporters`, in order. */
export function fanOut(...reporters: WorkerReporter[]): WorkerReporter {
  return {
    report(report) {
      for (const reporter of reporters) reporter.report(report);
    },
    async settle() {
      await Promise.all(reporters.map((reporter) => reporter.settle()));
    },
  };
}

/** The deploy record a build reports to (`IWOMP_DEPLOY_TABLE`, `IWOMP_TRIGGER_ID`). */
export interface DeployTableTarget {
  readonly tableName: string;
  readonly triggerId: string;
}

/** Writes a record's worker attributes: the DynamoDB adapter, loaded on first use. */
export interface WorkerFieldsWriter {
  write(fields: WorkerFields): Promise<void>;
  /** Lets go of connections, so the worker can exit. */
  close(): void;
}

/** The longest `reportedReason` stored: a reason is one line, not a log. */
const MAX_REASON = 1000;

/**
 * How long the worker waits, at its end, for reports still being written. An unreachable table
 * (each write retried by the SDK) must not hold the build up for long; what is still pending then
 * is abandoned with a warning, and the launcher closes the record from CodeBuild's status.
 */
export const SETTLE_LIMIT_MS = 15_000;

/**
 * Reports to the worker's own deploy record in the deploy table. Writes go one after another,
 * in the order of the reports, without holding up the deploy; a write that fails is one warning
 * line (`warn`), never a failed deploy. The DynamoDB client is loaded on the first report, so a
 * run without a table (local mode) never loads it.
 */
export function tableReporter(
  target: DeployTableTarget,
  warn: (line: string) => void,
  writer: WorkerFieldsWriter = lazyTableWriter(target),
  settleLimitMs = SETTLE_LIMIT_MS,
): WorkerReporter {
  let chain = Promise.resolve();
  let done = false;
  const enqueue = (fields: WorkerFields) => {
    chain = chain.then(() =>
      writer
        .write(fields)
        .catch((error: unknown) =>
          warn(`cannot report to the deploy table ${target.tableName}: ${describeWriteError(error)}`),
        ),
    );
  };
  return {
    report(report) {
      switch (report.type) {
        case 'phase':
          return enqueue({ phase: report.phase });
        case 'checkout':
          return enqueue({ deployedCommit: report.commit });
        case 'command':
          return;
        case 'outcome':
          return enqueue({
            reportedExitCode: report.exitCode,
            ...(report.reason === undefined ? {} : { reportedReason: oneLine(report.reason) }),
            ...(report.commit === undefined ? {} : { deployedCommit: report.commit }),
          });
      }
    },
    async settle() {
      chain = chain.then(() => {
        done = true;
      });
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, settleLimitMs);
      });
      await Promise.race([chain, limit]);
      clearTimeout(timer);
      if (!done)
        warn(`gave up reporting to the deploy table ${target.tableName} after ${settleLimitMs / 1000}s`);
      writer.close();
    },
  };
}

function lazyTableWriter(target: DeployTableTarget): WorkerFieldsWriter {
  let adapter: Promise<import('../adapters/aws/deploy-table-report.js').DeployTableReport> | undefined;
  return {
    async write(fields) {
      adapter ??= import('../adapters/aws/deploy-table-report.js').then(
        (m) => new m.DeployTableReport({ tableName: target.tableName, triggerId: target.triggerId }),
      );
      await (await adapter).write(fields);
    },
    close() {
      void adapter?.then(
        (a) => a.destroy(),
        () => undefined,
      );
    },
  };
}

function oneLine(text: string): string {
  const line = text.split(/[\r\n]/, 1)[0] ?? '';
  return line.length <= MAX_REASON ? line : `${line.slice(0, MAX_REASON - 1)}…`;
}

/** One line naming what failed; an SDK error's name says most (ConditionalCheckFailedException: no such record). */
function describeWriteError(error: unknown): string {
  if (!(error instanceof Error)) return String(error).split('\n', 1)[0] ?? '';
  return `${error.name}: ${error.message.split('\n', 1)[0] ?? ''}`;
}
