import { constants } from 'node:os';
import { isFinished, type JobRecord, jobElapsedMs } from '../core/job-record.js';
import type { FollowHooks } from '../ports/job-tracker.js';
import { UsageError } from './errors.js';
import { CliExitCode, exitCodeForOutcome } from './exit-codes.js';
import type { OutputStream } from './io.js';
import { followDisplay } from './job-progress.js';

/** A shell's status for a program ended by Ctrl-C: 128 + SIGINT. */
export const INTERRUPTED_EXIT_CODE = 128 + constants.signals.SIGINT;

/** Calls `stop` on Ctrl-C; returns a function that stops listening. */
export type OnInterrupt = (stop: () => void) => () => void;

export const onSigint: OnInterrupt = (stop) => {
  process.once('SIGINT', stop);
  return () => process.off('SIGINT', stop);
};

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const DURATION = /^(?:\d+(?:ms|s|m|h))+$/;

/**
 * `--timeout`: `90s`, `30m`, `1h30m`, `500ms` (a bare number is refused: minutes or seconds?).
 * @returns milliseconds
 */
export function parseDuration(flag: string, value: string): number {
  if (!DURATION.test(value)) {
    throw new UsageError(
      `${flag}: expected a duration such as 90s, 30m or 1h30m, got ${JSON.stringify(value)}`,
    );
  }
  let ms = 0;
  for (const [, amount, unit] of value.matchAll(/(\d+)(ms|s|m|h)/g)) {
    ms += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  if (ms <= 0 || !Number.isSafeInteger(ms)) {
    throw new UsageError(`${flag}: expected a duration above 0, got ${JSON.stringify(value)}`);
  }
  return ms;
}

/** `90000` → `1m30s`: a duration as `--timeout` takes it. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const s = Math.round(ms / 1000);
  const parts = [
    [Math.floor(s / 3600), 'h'],
    [Math.floor((s % 3600) / 60), 'm'],
    [s % 60, 's'],
  ] as const;
  return parts
    .filter(([n]) => n > 0)
    .map(([n, unit]) => `${n}${unit}`)
    .join('');
}

export interface FollowOutcomeOptions<R extends JobRecord> {
  /** `job` (local) or `deploy` (AWS), for the messages. */
  readonly noun: string;
  readonly id: string;
  /** Where progress (and the log, with `showLog`) goes. */
  readonly stderr: OutputStream;
  /** Follows the record to its end, or until the signal is aborted. */
  readonly follow: (hooks: FollowHooks<R>) => Promise<R>;
  /** Stream the log too. */
  readonly showLog: boolean;
  /** `--timeout`, in milliseconds. @default - none: until the deploy ends */
  readonly timeoutMs?: number;
  readonly onInterrupt: OnInterrupt;
  /** How to follow and stop it later, for the message when the CLI stops following first. */
  readonly followHint: string;
  /**
   * Called before following, with the signal that stops the wait: for a record that may not
   * exist yet. Returns false when the signal stopped it first.
   */
  readonly ready?: (signal: AbortSignal) => Promise<boolean>;
}

export interface FollowOutcome<R extends JobRecord> {
  /** The last record seen (none when the wait stopped before the record existed). */
  readonly record?: R;
  readonly exitCode: number;
}

/**
 * `trigger --wait`: follows a job to its end with progress on stderr, and turns how it ended
 * into the CLI's exit code (docs/lifecycle.md): 0 succeeded, 6 rejected, 7 failed, 8 superseded,
 * 9 `--timeout` passed first, 10 cancelled, 130 Ctrl-C. The job goes on when the CLI stops first.
 */
export async function followToOutcome<R extends JobRecord>(
  options: FollowOutcomeOptions<R>,
): Promise<FollowOutcome<R>> {
  const { stderr, id, noun } = options;
  const display = followDisplay({ ...(options.showLog ? { log: stderr } : {}), progress: stderr });
  const stop = new AbortController();
  let why: 'timeout' | 'interrupt' | undefined;
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          why ??= 'timeout';
          stop.abort();
        }, options.timeoutMs);
  const stopListening = options.onInterrupt(() => {
    why ??= 'interrupt';
    stop.abort();
  });
  let record: R | undefined;
  try {
    if (options.ready === undefined || (await options.ready(stop.signal))) {
      // No onOutput without showLog: a tracker reads a log only for one (in AWS, a caller may
      // be allowed to read records and not the log group).
      const { onOutput, ...progress } = display.hooks;
      record = await options.follow({
        ...progress,
        ...(options.showLog && onOutput !== undefined ? { onOutput } : {}),
        signal: stop.signal,
      });
    }
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    stopListening();
  }
  if (record !== undefined && isFinished(record.state)) {
    display.finish(record, jobElapsedMs(record, Date.now()));
    return { record, exitCode: exitCodeForOutcome(record.state) };
  }
  if (why === 'timeout') {
    stderr.write(
      `\niwomp: stopped waiting for ${noun} ${id} after ${formatDuration(options.timeoutMs ?? 0)} (--timeout); it goes on. ${options.followHint}\n`,
    );
    return { ...(record === undefined ? {} : { record }), exitCode: CliExitCode.timedOut };
  }
  stderr.write(`\niwomp: stopped following ${noun} ${id}; it goes on. ${options.followHint}\n`);
  return { ...(record === undefined ? {} : { record }), exitCode: INTERRUPTED_EXIT_CODE };
}

/**
 * The outcome fields of `trigger --wait --json`, the same in AWS and local mode: the record's
 * state, the worker's own exit code (the deploy command's status when it failed), the reason.
 */
export function outcomeJson(record: JobRecord): {
  readonly state: JobRecord['state'];
  readonly workerExitCode?: number;
  readonly reason?: string;
} {
  return {
    state: record.state,
    ...(record.exitCode === undefined ? {} : { workerExitCode: record.exitCode }),
    ...(record.error === undefined ? {} : { reason: record.error }),
  };
}
