import { describe, expect, it } from 'vitest';
import { type DeployRecord, deployResultOf, finalOutcome } from '../../src/core/deploy-record.js';
import {
  markEnded,
  markQueued,
  markRejected,
  markRunning,
  markStarted,
  markSuperseded,
} from '../../src/core/job-record.js';

const T0 = new Date('2026-11-22T10:00:00.000Z');
const T1 = new Date('2026-11-22T10:00:07.000Z');
const received: DeployRecord = {
  version: 1,
  id: 'm-1',
  project: 'demo',
  branch: 'main',
  state: 'received',
  createdAt: T0.toISOString(),
};

describe('deploy record: the AWS life of a trigger', () => {
  it('goes received → queued → started → running → succeeded, keeping the start time CodeBuild gave', () => {
    // GIVEN a received trigger
    // WHEN it is queued, its build starts at T0, the worker runs later and the build succeeds
    const started = markStarted({ ...markQueued(received), buildId: 'w:1' }, T0);
    const running = markRunning(started, T1);
    const done = markEnded(running, finalOutcome(running, 'SUCCEEDED'), T1);
    // THEN the start is T0 (not when the worker was first seen) and the end says succeeded
    expect(started).toMatchObject({ state: 'started', startedAt: T0.toISOString() });
    expect(markStarted(started, T1)).toBe(started);
    expect(running).toMatchObject({ state: 'running', phase: 'clone', startedAt: T0.toISOString() });
    expect(done).toMatchObject({ state: 'succeeded', exitCode: 0, finishedAt: T1.toISOString() });
    expect(done).not.toHaveProperty('phase');
  });

  it("takes the worker's own outcome over CodeBuild's status", () => {
    // GIVEN a running record whose worker reported exit 83 (clone) or 84 (superseded)
    const running = markRunning(markQueued(received), T0);
    // WHEN the build ends with any status
    // THEN the worker's code decides, with its reason
    expect(
      finalOutcome({ ...running, reportedExitCode: 83, reportedReason: 'cannot fetch' }, 'SUCCEEDED'),
    ).toEqual({
      state: 'failed',
      exitCode: 83,
      reason: 'cannot fetch',
    });
    expect(finalOutcome({ ...running, reportedExitCode: 84, reportedReason: 'moved' }, 'FAILED')).toEqual({
      state: 'superseded',
      exitCode: 84,
      reason: 'moved',
    });
    expect(finalOutcome({ ...running, reportedExitCode: 0, reportedReason: 'ignored' }, 'FAILED')).toEqual({
      state: 'succeeded',
      exitCode: 0,
    });
  });

  it("falls back on CodeBuild's status when the worker reported nothing", () => {
    const running = markRunning(markQueued(received), T0);
    expect(finalOutcome(running, 'SUCCEEDED')).toEqual({ state: 'succeeded', exitCode: 0 });
    expect(finalOutcome(running, 'STOPPED').state).toBe('cancelled');
    for (const status of ['FAILED', 'FAULT', 'TIMED_OUT'] as const) {
      expect(finalOutcome(running, status)).toMatchObject({ state: 'failed', reason: expect.any(String) });
      expect(finalOutcome(running, status)).not.toHaveProperty('exitCode');
    }
  });

  it('records rejection and supersession with their reasons, and refuses to end a job as rejected later', () => {
    const rejected = markRejected(received, 'branch x is not allowed', T1);
    const superseded = markSuperseded(markQueued(received), 'm-2', T1);
    expect(rejected).toMatchObject({ state: 'rejected', error: 'branch x is not allowed' });
    expect(superseded).toMatchObject({ state: 'superseded', error: expect.stringContaining('m-2') });
    expect(superseded).not.toHaveProperty('startedAt');
    expect(() => markEnded(markQueued(received), { state: 'rejected' }, T1)).toThrow(
      /cannot end as rejected/,
    );
    expect(() => markRejected(markQueued(received), 'late', T1)).toThrow(/cannot go from queued to rejected/);
  });

  it('publishes a result only for a finished record, with the commit the worker deployed', () => {
    // GIVEN a running record, and the same record ended as failed
    const running = { ...markRunning(markQueued(received), T0), buildId: 'w:1', logUrl: 'https://console/x' };
    const failed = markEnded(
      { ...running, deployedCommit: 'a'.repeat(40) },
      { state: 'failed', exitCode: 2, reason: 'exit 2' },
      T1,
    );
    // WHEN their results are asked for
    // THEN the running one has none; the failed one has exactly these fields
    expect(deployResultOf(running)).toBeUndefined();
    expect(deployResultOf(failed)).toEqual({
      version: 1,
      id: 'm-1',
      project: 'demo',
      branch: 'main',
      commit: 'a'.repeat(40),
      state: 'failed',
      reason: 'exit 2',
      exitCode: 2,
      buildId: 'w:1',
      logUrl: 'https://console/x',
      createdAt: T0.toISOString(),
      finishedAt: T1.toISOString(),
    });
  });
});
