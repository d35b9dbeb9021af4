import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';
import { isFinished, type JobRecord } from './job-record.js';
import type { JobStore } from './job-store.js';
import type { ProjectQueue } from './project-queue.js';
import { markLost } from './run-job.js';

/** A snapshot of a job while it is followed. */
export interface JobProgress {
  readonly record: JobRecord;
  /** Since the job was created (queue time included), in milliseconds. */
  readonly elapsedMs: number;
}

export interface FollowHooks {
  /** Log text as it is appended (the worker's and the deploy command's output). */
  readonly onOutput?: (text: string) => void;
  /** On every change of state or phase, and about once a second while the job runs. */
  readonly onProgress?: (progress: JobProgress) => void;
  /** Stops following (the job goes on); `followJob` then resolves with the last record seen. */
  readonly signal?: AbortSignal;
  /** @default 50 */
  readonly pollMs?: number;
}

/**
 * Follows a job to its end: streams its log from the start, reports progress, and resolves
 * with the final record. A job whose runner died without finishing it is recorded as failed
 * here, so a follower never waits forever.
 */
export async function followJob(
  deps: { store: JobStore; queue: ProjectQueue },
  id: string,
  hooks: FollowHooks = {},
): Promise<JobRecord> {
  const pollMs = hooks.pollMs ?? 50;
  const decoder = new StringDecoder('utf8');
  let offset = 0;
  let lastKey = '';
  let lastProgressAt = 0;

  const drainLog = async () => {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(deps.store.logPath(id), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    try {
      for (;;) {
        const { bytesRead, buffer } = await handle.read({
          buffer: Buffer.alloc(64 * 1024),
          position: offset,
        });
        if (bytesRead === 0) break;
        offset += bytesRead;
        const text = decoder.write(buffer.subarray(0, bytesRead));
        if (text.length > 0) hooks.onOutput?.(text);
      }
    } finally {
      await handle.close();
    }
  };

  for (;;) {
    let record = await deps.store.read(id);
    await drainLog();
    if (!isFinished(record.state) && !(await deps.queue.isLive(record.project, record.ticket))) {
      // The runner writes the end state before it gives up its place: read again before deciding.
      record = await deps.store.read(id);
      if (!isFinished(record.state))
        record = (await markLost(deps.store, { jobId: id, pid: record.runnerPid ?? 0 })) ?? record;
      await drainLog();
    }
    const now = Date.now();
    const key = `${record.state}/${record.phase ?? ''}`;
    if (key !== lastKey || now - lastProgressAt >= 1000 || isFinished(record.state)) {
      lastKey = key;
      lastProgressAt = now;
      hooks.onProgress?.({ record, elapsedMs: elapsedMs(record, now) });
    }
    if (isFinished(record.state) || hooks.signal?.aborted) {
      const rest = decoder.end();
      if (rest.length > 0) hooks.onOutput?.(rest);
      return record;
    }
    await sleep(pollMs);
  }
}

function elapsedMs(record: JobRecord, now: number): number {
  const end = record.finishedAt === undefined ? now : Date.parse(record.finishedAt);
  return Math.max(0, end - Date.parse(record.createdAt));
}

/** One line for a progress display: `demo main · running: command · 3.4s`. */
export function formatProgress(progress: JobProgress): string {
  const { record } = progress;
  const what = record.state === 'running' && record.phase ? `running: ${record.phase}` : record.state;
  const exit = record.exitCode === undefined ? '' : ` (exit ${record.exitCode})`;
  return `${record.project} ${record.branch} · ${what}${exit} · ${(progress.elapsedMs / 1000).toFixed(1)}s`;
}
