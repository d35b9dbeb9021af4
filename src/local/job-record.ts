import { randomBytes } from 'node:crypto';
import { InvalidInputError } from '../core/errors.js';
import { JOB_PHASES, JOB_STATES, type JobRecord } from '../core/job-record.js';
import { quote } from '../core/names.js';

/**
 * A local job's record, `<state>/jobs/<id>.json`: the core record (states and transitions in
 * core/job-record.ts) plus what local mode needs to run and supervise it.
 */
export interface LocalJobRecord extends JobRecord {
  /** The job's place in its project's queue. */
  readonly ticket: string;
  /** The process that runs the job, and its worker: for `jobs show` and stale detection. */
  readonly runnerPid?: number;
  readonly workerPid?: number;
  /** The deploy command's process group, once it runs. */
  readonly commandPid?: number;
}

const STRINGS = ['id', 'project', 'branch', 'ticket', 'createdAt'] as const;
const OPTIONAL_STRINGS = ['commit', 'error', 'startedAt', 'finishedAt'] as const;
const OPTIONAL_INTEGERS = ['exitCode', 'runnerPid', 'workerPid', 'commandPid'] as const;

/**
 * Checks a parsed record; returns the problem, or undefined when it is valid. Written by hand,
 * not with zod: the job runner starts on every trigger, and zod would triple its load time.
 */
export function recordProblem(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return 'not a JSON object';
  const r = json as Record<string, unknown>;
  if (r.version !== 1) return `version: expected 1, got ${JSON.stringify(r.version)}`;
  for (const key of STRINGS) if (typeof r[key] !== 'string') return `${key}: expected a string`;
  for (const key of OPTIONAL_STRINGS)
    if (r[key] !== undefined && typeof r[key] !== 'string') return `${key}: expected a string`;
  for (const key of OPTIONAL_INTEGERS)
    if (r[key] !== undefined && !Number.isInteger(r[key])) return `${key}: expected an integer`;
  if (!(JOB_STATES as readonly unknown[]).includes(r.state))
    return `state: expected one of ${JOB_STATES.join(', ')}`;
  if (r.phase !== undefined && !(JOB_PHASES as readonly unknown[]).includes(r.phase))
    return `phase: expected ${JOB_PHASES.join(' or ')}`;
  return undefined;
}

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
