import type { JobRecord } from '../core/job-record.js';

/** A snapshot of a job while it is followed. */
export interface JobProgress<R extends JobRecord = JobRecord> {
  readonly record: R;
  /** Since the job was created (queue time included), in milliseconds. */
  readonly elapsedMs: number;
}

export interface FollowHooks<R extends JobRecord = JobRecord> {
  /** Log text as it is appended (the worker's and the deploy command's output). */
  readonly onOutput?: (text: string) => void;
  /** On every change of state or phase, and about once a second while the job runs. */
  readonly onProgress?: (progress: JobProgress<R>) => void;
  /** Stops following (the job goes on); `follow` then resolves with the last record seen. */
  readonly signal?: AbortSignal;
  /** @default 50 */
  readonly pollMs?: number;
}

/** A record that could not be read, reported by `list` instead of hiding every other job. */
export interface BrokenRecord {
  readonly file: string;
  readonly problem: string;
}

/**
 * Where job records and logs are kept and read back: local mode's job store today, a table and
 * CloudWatch Logs in AWS next. The CLI's `jobs` commands and `trigger --wait` go through this
 * port only. `R` is the store's record, which may carry more than the core record.
 */
export interface JobTracker<R extends JobRecord = JobRecord> {
  /** Where the records are kept, for messages: a folder, a table. */
  readonly location: string;
  /** One job's record; throws a `not-found` error when there is none. */
  get(id: string): Promise<R>;
  /**
   * Every job, newest first (optionally one project's, at most `limit` of them), and the records
   * that could not be read.
   */
  list(filter?: {
    readonly project?: string;
    readonly limit?: number;
  }): Promise<{ jobs: R[]; broken: BrokenRecord[] }>;
  /** The job's log so far (empty when it has written nothing yet). */
  readLog(id: string): Promise<string>;
  /** Where a person finds the log: a file path, a console address. */
  logLocation(id: string): string;
  /**
   * Follows a job to its end: streams its log from the start, reports progress, and resolves
   * with the final record. A job whose runner is gone is recorded as failed, so this ends.
   */
  follow(id: string, hooks?: FollowHooks<R>): Promise<R>;
  /**
   * Stops a job: a waiting one never starts, a running one's deploy command is sent SIGTERM.
   * Resolves with the record once the job has ended (`cancelled`, or how it ended first).
   */
  cancel(id: string, reason: string): Promise<R>;
}
