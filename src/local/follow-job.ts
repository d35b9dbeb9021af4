import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';
import { isFinished, jobElapsedMs } from '../core/job-record.js';
import type { FollowHooks } from '../ports/job-tracker.js';
import type { LocalJobRecord } from './job-record.js';
import type { JobStore } from './job-store.js';
import type { ProjectQueue } from './project-queue.js';
import { settleIfLost } from './run-job.js';

/**
 * Follows a job to its end: streams its log from the start, reports progress, and resolves
 * with the final record. A job whose runner died without finishing it is recorded as failed
 * here, so a follower never waits forever.
 */
export async function followJob(
  deps: { store: JobStore; queue: ProjectQueue },
  id: string,
  hooks: FollowHooks<LocalJobRecord> = {},
): Promise<LocalJobRecord> {
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
    const read = await deps.store.read(id);
    await drainLog();
    const record = await settleIfLost(deps, read);
    // Settled meanwhile (ended, or found lost): its last output may have landed since.
    if (record !== read) await drainLog();
    const now = Date.now();
    const key = `${record.state}/${record.phase ?? ''}`;
    if (key !== lastKey || now - lastProgressAt >= 1000 || isFinished(record.state)) {
      lastKey = key;
      lastProgressAt = now;
      hooks.onProgress?.({ record, elapsedMs: jobElapsedMs(record, now) });
    }
    if (isFinished(record.state) || hooks.signal?.aborted) {
      const rest = decoder.end();
      if (rest.length > 0) hooks.onOutput?.(rest);
      return record;
    }
    await sleep(pollMs);
  }
}
