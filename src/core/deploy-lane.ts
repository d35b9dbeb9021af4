/**
 * One deploy at a time per project: the rule every store follows (a DynamoDB item in AWS, the
 * queue folder locally), written once here with no I/O. A project's *lane* is the trigger that
 * holds it (its build is starting or running) and the triggers waiting behind it, oldest first.
 *
 * The store reads the lane, asks one of the functions below what to do, and writes the new lane
 * and the effects together, conditionally on the lane it read: two launchers deciding at once
 * cannot both start a build; the loser reads again and decides again.
 */

/** How a project treats a trigger that arrives while another deploy of it holds the lane. */
export const LANE_MODES = ['supersede', 'queue'] as const;
export type LaneMode = (typeof LANE_MODES)[number];
/** CodePipeline V2's default: only the newest waiting trigger of a branch is worth deploying. */
export const DEFAULT_LANE_MODE: LaneMode = 'supersede';

/** A trigger in a lane. */
export interface LaneEntry {
  readonly id: string;
  readonly branch: string;
}

export interface Lane {
  /** The trigger whose build is starting or running; undefined when the project is idle. */
  readonly holder?: LaneEntry;
  /** Triggers waiting for the lane, oldest first. */
  readonly waiting: readonly LaneEntry[];
}

export const EMPTY_LANE: Lane = { waiting: [] };

/** What a decision changes: the lane to write, and what the store must do with the triggers named. */
export interface LaneDecision {
  readonly lane: Lane;
  /** The trigger that now holds the lane and whose build must be started. */
  readonly start?: LaneEntry;
  /** Waiting triggers replaced by a newer one of the same branch: recorded `superseded`, never started. */
  readonly superseded: readonly LaneEntry[];
  /** False when the lane is unchanged (nothing to write): the decision was already taken. */
  readonly changed: boolean;
}

const unchanged = (lane: Lane): LaneDecision => ({ lane, superseded: [], changed: false });

function contains(lane: Lane, id: string): boolean {
  return lane.holder?.id === id || lane.waiting.some((e) => e.id === id);
}

/** Gives an idle lane to its first waiting trigger. */
function fill(lane: Lane, superseded: readonly LaneEntry[]): LaneDecision {
  const [next, ...rest] = lane.waiting;
  if (lane.holder !== undefined || next === undefined) return { lane, superseded, changed: true };
  return { lane: { holder: next, waiting: rest }, start: next, superseded, changed: true };
}

/**
 * A trigger arrives. An idle project starts it. Otherwise it waits: in `queue` mode behind every
 * other, in `supersede` mode in place of the waiting trigger of the same branch, which is
 * superseded. Triggers of other branches keep their place: a newer `main` says nothing about a
 * waiting `release/1`. The running deploy is never interrupted. A trigger already in the lane
 * (a redelivery) changes nothing.
 */
export function admit(lane: Lane, entry: LaneEntry, mode: LaneMode): LaneDecision {
  if (contains(lane, entry.id)) return unchanged(lane);
  if (mode === 'queue') return fill({ ...lane, waiting: [...lane.waiting, entry] }, []);
  const superseded = lane.waiting.filter((e) => e.branch === entry.branch);
  const kept = lane.waiting.filter((e) => e.branch !== entry.branch);
  return fill({ ...lane, waiting: [...kept, entry] }, superseded);
}

/**
 * A trigger leaves the lane: its deploy ended (or it was cancelled, or its build could not be
 * started for good). If it held the lane, the next waiting trigger starts.
 */
export function release(lane: Lane, id: string): LaneDecision {
  if (lane.holder?.id === id) return fill({ waiting: lane.waiting }, []);
  if (lane.waiting.some((e) => e.id === id)) {
    return {
      lane: { ...lane, waiting: lane.waiting.filter((e) => e.id !== id) },
      superseded: [],
      changed: true,
    };
  }
  return unchanged(lane);
}

/**
 * The holder's build could not be started for now (an account's concurrent-build limit): it goes
 * back to the head of the queue, and the lane stays idle until {@link resume}.
 */
export function defer(lane: Lane, id: string): LaneDecision {
  if (lane.holder?.id !== id) return unchanged(lane);
  return { lane: { waiting: [lane.holder, ...lane.waiting] }, superseded: [], changed: true };
}

/** Starts the first waiting trigger of an idle lane (a later retry after {@link defer}). */
export function resume(lane: Lane): LaneDecision {
  if (lane.holder !== undefined || lane.waiting.length === 0) return unchanged(lane);
  return fill(lane, []);
}
