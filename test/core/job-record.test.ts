import { describe, expect, it } from 'vitest';
import { InternalError } from '../../src/core/errors.js';
import {
  canTransition,
  isFinished,
  JOB_STATES,
  type JobRecord,
  jobElapsedMs,
  markCancelled,
  markFailed,
  markFinished,
  markPhase,
  markRunning,
  stateForExitCode,
} from '../../src/core/job-record.js';
import { formatWorkerReport, parseWorkerReport } from '../../src/core/worker-report.js';

const T0 = new Date('2026-11-22T10:00:00.000Z');
const T1 = new Date('2026-11-22T10:00:05.000Z');

const queued: JobRecord = {
  version: 1,
  id: 'demo-1',
  project: 'demo',
  branch: 'main',
  state: 'queued',
  createdAt: T0.toISOString(),
};

describe('job record state machine', () => {
  it('runs a job from queued through its phases to the state its exit code names', () => {
    // GIVEN a queued job
    // WHEN the worker starts, reports its command phase and exits 0
    const running = markRunning(queued, T0);
    const inCommand = markPhase(running, 'command');
    const done = markFinished(inCommand, { exitCode: 0 }, T1);
    // THEN each step is recorded, and the end drops the phase
    expect(running).toMatchObject({ state: 'running', phase: 'clone', startedAt: T0.toISOString() });
    expect(inCommand.phase).toBe('command');
    expect(done).toEqual({
      ...queued,
      state: 'succeeded',
      exitCode: 0,
      startedAt: T0.toISOString(),
      finishedAt: T1.toISOString(),
    });
  });

  it.each([
    [0, 'succeeded'],
    [84, 'superseded'],
    [1, 'failed'],
    [83, 'failed'],
    [85, 'failed'],
    [127, 'failed'],
    [143, 'failed'],
  ] as const)('maps exit code %i to %s', (code, state) => {
    // GIVEN / WHEN / THEN
    expect(stateForExitCode(code)).toBe(state);
  });

  it("keeps the worker's reason only when the job did not succeed", () => {
    // GIVEN a running job
    const running = markRunning(queued, T0);
    // WHEN it fails, or succeeds with a stray reason
    const failed = markFinished(running, { exitCode: 83, error: 'git fetch failed' }, T1);
    const ok = markFinished(running, { exitCode: 0, error: 'ignored' }, T1);
    // THEN
    expect(failed).toMatchObject({ state: 'failed', exitCode: 83, error: 'git fetch failed' });
    expect(ok).not.toHaveProperty('error');
  });

  it('gives a job that ended before it was seen running a start time', () => {
    // GIVEN / WHEN a queued job finishes at once
    const done = markFinished(queued, { exitCode: 84 }, T1);
    // THEN
    expect(done).toMatchObject({
      state: 'superseded',
      startedAt: T1.toISOString(),
      finishedAt: T1.toISOString(),
    });
  });

  it('marks a job that cannot go on failed with the internal code, and a cancelled one with its reason', () => {
    // GIVEN a running job
    const running = markRunning(queued, T0);
    // WHEN its runner is lost, or someone cancels it
    // THEN
    expect(markFailed(running, 'runner gone', T1)).toMatchObject({
      state: 'failed',
      exitCode: 85,
      error: 'runner gone',
    });
    expect(markCancelled(running, 'cancelled by alice', T1)).toMatchObject({
      state: 'cancelled',
      error: 'cancelled by alice',
    });
    expect(markCancelled(running, 'x', T1)).not.toHaveProperty('phase');
  });

  it('refuses to move a finished job, and ignores a phase report outside running', () => {
    // GIVEN a finished job
    const done = markFinished(markRunning(queued, T0), { exitCode: 0 }, T1);
    // WHEN / THEN nothing leaves a final state
    expect(() => markFailed(done, 'late', T1)).toThrow(InternalError);
    expect(() => markRunning(done, T1)).toThrow(/cannot go from succeeded to running/);
    expect(markPhase(done, 'command')).toBe(done);
    expect(markPhase(queued, 'command')).toBe(queued);
  });

  it('has no way out of a final state, and a way out of every other one', () => {
    // GIVEN every state
    for (const from of JOB_STATES) {
      // WHEN asked where it may go
      const next = JOB_STATES.filter((to) => canTransition(from, to));
      // THEN final states lead nowhere, the others somewhere, and never back to received
      expect(next.length === 0).toBe(isFinished(from));
      expect(next).not.toContain('received');
    }
    expect(canTransition('received', 'rejected')).toBe(true);
    expect(canTransition('queued', 'superseded')).toBe(true);
    expect(canTransition('running', 'queued')).toBe(false);
  });

  it('measures a job from creation to its end, or to now while it goes on', () => {
    // GIVEN a running and a finished job
    const running = markRunning(queued, T0);
    const done = markFinished(running, { exitCode: 0 }, T1);
    // THEN
    expect(jobElapsedMs(done, T1.getTime() + 60_000)).toBe(5000);
    expect(jobElapsedMs(running, T0.getTime() + 1500)).toBe(1500);
  });
});

describe('worker reports', () => {
  it('reads back what it writes', () => {
    // GIVEN reports of each kind
    const reports = [
      { type: 'phase', phase: 'command' },
      { type: 'outcome', exitCode: 83, reason: 'git fetch failed' },
      { type: 'outcome', exitCode: 0, commit: 'a'.repeat(40) },
    ] as const;
    for (const report of reports) {
      // WHEN written as a line and parsed
      const line = formatWorkerReport(report);
      // THEN it is one line, and the same report
      expect(line.endsWith('\n') && !line.slice(0, -1).includes('\n')).toBe(true);
      expect(parseWorkerReport(line.trim())).toEqual(report);
    }
  });

  it('ignores anything that is not a well-formed report', () => {
    // GIVEN lines that are not reports
    for (const line of [
      '',
      'iwomp: failed',
      '[iwomp] running ["./deploy.sh"]',
      '{"type":"phase","phase":"deploy"}',
      '{"type":"outcome","exitCode":"0"}',
      '{"type":"outcome","exitCode":1.5}',
      'null',
      '[1]',
    ]) {
      // WHEN / THEN
      expect(parseWorkerReport(line)).toBeUndefined();
    }
  });
});
