import { describe, expect, it } from 'vitest';
import { admit, defer, EMPTY_LANE, type Lane, release, resume } from '../../src/core/deploy-lane.js';

const main = (id: string) => ({ id, branch: 'main' });
const rel = (id: string) => ({ id, branch: 'release/1' });

describe('deploy lane: one deploy at a time per project', () => {
  it('starts a trigger on an idle project, and makes the next one wait without interrupting it', () => {
    // GIVEN an idle project
    // WHEN A arrives, then B
    const a = admit(EMPTY_LANE, main('A'), 'supersede');
    const b = admit(a.lane, main('B'), 'supersede');
    // THEN A starts and holds the lane; B waits, and nothing starts for it
    expect(a).toEqual({
      lane: { holder: main('A'), waiting: [] },
      start: main('A'),
      superseded: [],
      changed: true,
    });
    expect(b).toEqual({ lane: { holder: main('A'), waiting: [main('B')] }, superseded: [], changed: true });
  });

  it('supersede: a newer trigger of a branch replaces its waiting one, and other branches keep their place', () => {
    // GIVEN A running, B (main) and R (release/1) waiting
    const lane: Lane = { holder: main('A'), waiting: [main('B'), rel('R')] };
    // WHEN C (main) arrives
    const c = admit(lane, main('C'), 'supersede');
    // THEN B is superseded, R keeps its place ahead of C, and A still holds the lane
    expect(c.superseded).toEqual([main('B')]);
    expect(c.lane).toEqual({ holder: main('A'), waiting: [rel('R'), main('C')] });
    expect(c.start).toBeUndefined();
  });

  it('queue: every trigger waits in order, none is superseded', () => {
    // GIVEN A running and B waiting
    const lane: Lane = { holder: main('A'), waiting: [main('B')] };
    // WHEN C of the same branch arrives in queue mode
    const c = admit(lane, main('C'), 'queue');
    // THEN B and C both wait, in arrival order
    expect(c).toEqual({
      lane: { holder: main('A'), waiting: [main('B'), main('C')] },
      superseded: [],
      changed: true,
    });
  });

  it('a redelivered trigger changes nothing, whether it holds the lane or waits', () => {
    // GIVEN A holding and B waiting
    const lane: Lane = { holder: main('A'), waiting: [main('B')] };
    // WHEN either arrives again, in either mode
    // THEN the lane is unchanged, nothing starts and nothing is superseded
    for (const mode of ['supersede', 'queue'] as const) {
      for (const id of ['A', 'B']) {
        expect(admit(lane, main(id), mode)).toEqual({ lane, superseded: [], changed: false });
      }
    }
  });

  it('release hands the lane to the first waiting trigger; a waiting one leaves without starting anything', () => {
    // GIVEN A holding, B and C waiting
    const lane: Lane = { holder: main('A'), waiting: [main('B'), rel('C')] };
    // WHEN A ends
    const next = release(lane, 'A');
    // THEN B starts; releasing C (cancelled while waiting) starts nothing; an unknown id is a no-op
    expect(next).toEqual({
      lane: { holder: main('B'), waiting: [rel('C')] },
      start: main('B'),
      superseded: [],
      changed: true,
    });
    expect(release(lane, 'C')).toEqual({
      lane: { holder: main('A'), waiting: [main('B')] },
      superseded: [],
      changed: true,
    });
    expect(release(lane, 'Z')).toEqual({ lane, superseded: [], changed: false });
    expect(release({ holder: main('A'), waiting: [] }, 'A')).toEqual({
      lane: { waiting: [] },
      superseded: [],
      changed: true,
    });
  });

  it('defer puts a holder that could not start back at the head, and resume starts it later', () => {
    // GIVEN A holding (its build refused for the account's limit) and B waiting
    const lane: Lane = { holder: main('A'), waiting: [rel('B')] };
    // WHEN A is deferred, then the lane is resumed
    const deferred = defer(lane, 'A');
    const resumed = resume(deferred.lane);
    // THEN the lane is idle with A first, and resume starts A (not B)
    expect(deferred.lane).toEqual({ waiting: [main('A'), rel('B')] });
    expect(deferred.start).toBeUndefined();
    expect(resumed.start).toEqual(main('A'));
    expect(resumed.lane).toEqual({ holder: main('A'), waiting: [rel('B')] });
    // AND deferring someone who does not hold the lane, or resuming a held lane, changes nothing
    expect(defer(lane, 'B').changed).toBe(false);
    expect(resume(lane).changed).toBe(false);
  });

  it('supersede after a defer: the newer trigger of the branch replaces the deferred one and starts', () => {
    // GIVEN A deferred (idle lane, A waiting at the head)
    const lane: Lane = { waiting: [main('A')] };
    // WHEN B of the same branch arrives
    const b = admit(lane, main('B'), 'supersede');
    // THEN A is superseded and B starts at once
    expect(b.superseded).toEqual([main('A')]);
    expect(b.start).toEqual(main('B'));
  });
});
