import { isFinished, type JobRecord } from '../core/job-record.js';
import type { FollowHooks, JobProgress } from '../ports/job-tracker.js';
import type { OutputStream } from './io.js';

/** How often a job whose state does not change is still reported while it is followed. */
const HEARTBEAT_MS = 15_000;

export interface FollowDisplay {
  /** Where the job's log goes. */
  readonly log?: OutputStream;
  /** Where progress lines go; none: only the log. */
  readonly progress?: OutputStream;
}

/**
 * Hooks for `followJob` that show a job as it runs: its log, and a progress line
 * (`» demo main · running: command · 3.4s`) on every change of state or phase, every 15 seconds
 * while nothing changes, and at the end. When both go to one stream, a progress line never
 * lands in the middle of a log line.
 */
export function followDisplay(display: FollowDisplay): {
  hooks: FollowHooks;
  /** The closing line, once the job has ended. */
  finish(record: JobRecord, elapsedMs: number): void;
} {
  let lastKey = '';
  let lastShownAt = 0;
  let logLineOpen = false;
  const showProgress = (progress: JobProgress) => {
    if (display.progress === undefined) return;
    const shared = display.progress === display.log;
    const prefix = shared && logLineOpen ? '\n' : '';
    if (shared) logLineOpen = false;
    display.progress.write(`${prefix}» ${formatProgress(progress)}\n`);
  };
  return {
    hooks: {
      onOutput: (text) => {
        if (display.log === undefined) return;
        display.log.write(text);
        logLineOpen = !text.endsWith('\n');
      },
      onProgress: (progress) => {
        const now = Date.now();
        const key = `${progress.record.state}/${progress.record.phase ?? ''}`;
        // The end is shown by `finish`, once the log has been drained.
        if (isFinished(progress.record.state)) return;
        if (key === lastKey && now - lastShownAt < HEARTBEAT_MS) return;
        lastKey = key;
        lastShownAt = now;
        showProgress(progress);
      },
    },
    finish: (record, elapsedMs) => showProgress({ record, elapsedMs }),
  };
}

/** One line for a progress display: `demo main · running: command · 3.4s`. */
export function formatProgress(progress: JobProgress): string {
  const { record } = progress;
  const what = record.state === 'running' && record.phase ? `running: ${record.phase}` : record.state;
  const exit = record.exitCode === undefined ? '' : ` (exit ${record.exitCode})`;
  return `${record.project} ${record.branch} · ${what}${exit} · ${(progress.elapsedMs / 1000).toFixed(1)}s`;
}
