import type { LaneMode } from '../core/deploy-lane.js';
import { isFinished, markSuperseded } from '../core/job-record.js';
import { JobNotFoundError } from './errors.js';
import type { LocalJobRecord } from './job-record.js';
import type { JobStore } from './job-store.js';
import type { ProjectQueue } from './project-queue.js';

/**
 * A job just queued joins its project's lane (core/deploy-lane.ts `admit`): in `supersede` mode
 * the jobs of its branch waiting ahead of it are recorded `superseded`, naming it, and leave the
 * queue; their runners see it and end without running anything. In `queue` mode nothing changes:
 * it waits its turn. Returns the records superseded.
 *
 * A superseded job whose record its own trigger has not written yet is recorded by its runner
 * (or by whoever finds it lost) from the queue's end file, which names the newer job.
 */
export async function joinLane(
  deps: { readonly queue: ProjectQueue; readonly store: JobStore },
  job: Pick<LocalJobRecord, 'id' | 'project' | 'ticket'>,
  mode: LaneMode,
): Promise<LocalJobRecord[]> {
  const records: LocalJobRecord[] = [];
  await deps.queue.admit(job.project, job.ticket, mode, async (entry, by) => {
    let record: LocalJobRecord;
    try {
      record = await deps.store.read(entry.jobId);
    } catch (error) {
      if (error instanceof JobNotFoundError) return;
      throw error;
    }
    if (isFinished(record.state)) return;
    // The reason goes to its log first: whoever follows it sees why before it sees the end.
    await deps.store.appendLog(record.id, supersededLine(record.id, by));
    const superseded = markSuperseded(record, by, new Date());
    await deps.store.write(superseded);
    records.push(superseded);
  });
  return records;
}

/** The log line of a job superseded while it waited. */
export function supersededLine(id: string, by: string): string {
  return `[iwomp] job ${id} superseded by ${by}, a newer trigger of the same branch: it does not run`;
}
