import { readFile } from 'node:fs/promises';
import { LocalStateError } from '../../local/errors.js';
import { followJob } from '../../local/follow-job.js';
import type { LocalJobRecord } from '../../local/job-record.js';
import { JobStore } from '../../local/job-store.js';
import { ProjectQueue } from '../../local/project-queue.js';
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

  get(id: string): Promise<LocalJobRecord> {
    return this.store.read(id);
  }

  async list(filter: { readonly project?: string } = {}): ReturnType<JobTracker<LocalJobRecord>['list']> {
    const { jobs, broken } = await this.store.list();
    const { project } = filter;
    return { jobs: project === undefined ? jobs : jobs.filter((j) => j.project === project), broken };
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
