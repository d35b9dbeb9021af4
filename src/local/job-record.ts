import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { InvalidInputError } from '../core/errors.js';
import { quote } from '../core/names.js';

/**
 * Where a local job is. `queued`: waiting for its project's turn; `running`: the worker runs;
 * then one of the end states, chosen by the worker's exit code: 0 `succeeded`, 84 `superseded`
 * (the branch moved past the commit CI tested), anything else `failed`.
 */
export const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'superseded'] as const;
export type JobState = (typeof JOB_STATES)[number];

export function isFinished(state: JobState): boolean {
  return state === 'succeeded' || state === 'failed' || state === 'superseded';
}

/** What the job is doing while `running`, read from the worker's own progress lines. */
export type JobPhase = 'clone' | 'command';

export const JobRecordSchema = z.object({
  version: z.literal(1),
  id: z.string(),
  project: z.string(),
  branch: z.string(),
  commit: z.string().optional(),
  state: z.enum(JOB_STATES),
  phase: z.enum(['clone', 'command']).optional(),
  /** The worker's exit code (see exit-codes.ts), once finished. */
  exitCode: z.number().int().optional(),
  /** One line saying why a job did not succeed: the worker's `iwomp: …` line, or the runner's. */
  error: z.string().optional(),
  /** The job's place in its project's queue. */
  ticket: z.string(),
  /** ISO timestamps. */
  createdAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  /** The process that runs the job (and its worker), for `jobs show` and stale detection. */
  runnerPid: z.number().int().optional(),
  workerPid: z.number().int().optional(),
});

export type JobRecord = z.infer<typeof JobRecordSchema>;

const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;

/** Checks a job id given by a user before it becomes a file name. */
export function parseJobId(value: string): string {
  if (!JOB_ID.test(value)) throw new InvalidInputError('message', `invalid job id ${quote(value)}`);
  return value;
}

/**
 * A new job id: the project, the UTC creation time and a random suffix, e.g.
 * `demo-20261122T030849-5f2a9c`. Readable in listings, sortable per project, never reused.
 */
export function newJobId(project: string, now: Date): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, '');
  return `${project}-${stamp}-${randomBytes(3).toString('hex')}`;
}
