import { readFile } from 'node:fs/promises';
import { isFinished, markCancelled } from '../../core/job-record.js';
import { LocalStateError } from '../../local/errors.js';
import { followJob } from '../../local/follow-job.js';
import type { LocalJobRecord } from '../../local/job-record.js';
import { JobStore } from '../../local/job-store.js';
import { groupExists, ownerAlive, ProjectQueue } from '../../local/project-queue.js';
import { settleIfLost } from '../../local/run-job.js';
import { localPaths } from '../../local/state-dir.js';
import type { FollowHooks, JobTracker } from '../../ports/job-tracker.js';

/** Local mode's job tracker: the records and logs under `<state>/jobs`, and its queues. */
export class LocalJobTracker implements JobTracker<LocalJobRecord> {
  readonly store: JobStore;
  readonly queue: ProjectQueue;
  readonly location: string;

  constructor(stateDir: string) {
    const paths = localPaths(stateDir);
    this.store = new JobStore(paths.jobs, paths.root);
    this.queue = new ProjectQueue(paths.queue);
    this.location = this.store.dir;
  }

  async get(id: string): Promise<LocalJobRecord> {
    return this.settle(await this.store.read(id));
  }

  async list(
    filter: { readonly project?: string; readonly limit?: number } = {},
  ): ReturnType<JobTracker<LocalJobRecord>['list']> {
    const { jobs, broken } = await this.store.list();
    const { project, limit } = filter;
    const mine = (project === undefined ? jobs : jobs.filter((j) => j.project === project)).slice(0, limit);
    return { jobs: await Promise.all(mine.map((j) => this.settle(j))), broken };
  }

  async cancel(id: string, reason: string): Promise<LocalJobRecord> {
    const record = await this.get(id);
    if (isFinished(record.state)) return record;
    await this.store.requestCancel(record.id, reason);
    const entry = await this.queue.read(record.project, record.ticket);
    // The runner stops the job and records it; a deploy command whose runner is gone is stopped
    // directly; with no process left at all, the record is closed here.
    const target =
      entry === undefined
        ? undefined
        : ownerAlive({ pid: entry.pid, group: false })
          ? entry.pid
          : entry.commandGroup !== undefined && groupExists(entry.commandGroup)
            ? -entry.commandGroup
            : undefined;
    if (target === undefined) {
      const cancelled = markCancelled(await this.store.read(record.id), reason, new Date());
      await this.store.write(cancelled);
      if (entry !== undefined) await this.queue.release(record.project, record.ticket);
      return cancelled;
    }
    try {
      process.kill(target, 'SIGTERM');
    } catch {
      // Gone in the meantime: following the job below records how it ended.
    }
    return this.follow(record.id);
  }

  private settle(record: LocalJobRecord): Promise<LocalJobRecord> {
    return settleIfLost({ store: this.store, queue: this.queue }, record);
  }

  async readLog(id: string): Promise<string> {
    const path = this.store.logPath(id);
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      // A job just created may not have written its log yet.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw new LocalStateError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
    }
  }

  logLocation(id: string): string {
    return this.store.logPath(id);
  }

  follow(id: string, hooks: FollowHooks<LocalJobRecord> = {}): Promise<LocalJobRecord> {
    return followJob({ store: this.store, queue: this.queue }, id, hooks);
  }
}
