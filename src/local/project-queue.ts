import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { admit, type Lane, type LaneEntry, type LaneMode } from '../core/deploy-lane.js';
import { createFileExclusive, writeFileAtomic } from './atomic-file.js';
import { LocalStateError } from './errors.js';
import { parseJobId } from './job-record.js';

/** One place in a project's queue: which job holds it, and which process keeps it alive. */
export interface QueueEntry {
  readonly ticket: string;
  readonly jobId: string;
  /** The job's branch: in `supersede` mode a newer trigger of it takes this one's place while it waits. */
  readonly branch?: string;
  /** The process that owns the place: the trigger while it hands over, then the job's runner. */
  readonly pid: number;
  /**
   * Whether `pid` leads a process group whose members also keep the place (the runner is
   * started detached, so its worker shares its group): a worker left running by a killed
   * runner still holds the project, so no second job starts beside it.
   */
  readonly group: boolean;
  /**
   * The deploy command's own process group, once it runs: a command left running by a killed
   * worker (or runner) still holds the project until it ends.
   */
  readonly commandGroup?: number;
}

/**
 * How a job's wait for its turn ended, decided once: `run` (its turn came), `superseded` (a newer
 * trigger of its branch took its place), `stopped` (its runner was stopped, or its trigger failed).
 */
export type WaitEnd =
  | { readonly kind: 'run' }
  | { readonly kind: 'superseded'; readonly by: string }
  | { readonly kind: 'stopped' };

const TICKET = /^\d{12}$/;
const END_SUFFIX = '.end';

/**
 * Per-project lanes across processes, made of files only, so that two `iwomp trigger --local`
 * started from two shells agree without a daemon. The rule (who runs, who waits, who is
 * superseded) is core/deploy-lane.ts; this class only keeps the lane and applies its decisions.
 *
 * `<queue>/<project>/<ticket>` holds one entry per job that is waiting or running. Tickets are
 * 12-digit numbers; a trigger takes the next one above every ticket present by creating the
 * file exclusively (`link`, which fails atomically if another trigger took the same number: it
 * then tries the next). The job with the lowest ticket whose owner is alive runs; the others wait.
 * An entry whose owner process (and process group) is gone is stale: the first waiter to see it
 * removes it and reports it, so a crashed run cannot block its project forever.
 *
 * Superseding without a lock. A new trigger expresses the entries below its ticket as a core
 * `Lane` (holder: the first live one; waiting: the others, oldest first) and asks `admit`. Each
 * trigger it names as superseded is taken out only through `<queue>/<project>/<jobId>.end`, created
 * exclusively: whoever creates it first decides how that job's wait ends (`run` by its runner
 * when its turn comes, `superseded` by a newer trigger, `stopped` by its runner or its failing
 * trigger), and nobody can change it after. So a job that started is never superseded, a
 * superseded job never starts, and two newer triggers deciding at once supersede it once.
 * A lane read a moment ago can only be behind in ways that claim settles: a waiting job that
 * started since keeps its `run`, and one superseded since is skipped.
 *
 * For every newer trigger to see every older one, a trigger keeps its ticket only if no higher
 * ticket existed right after it took it (else it gives it back and takes one above): any ticket
 * taken after that is higher, and its trigger lists the queue after ours is in it. Two triggers
 * of one branch at once therefore end with exactly one waiting: the higher ticket supersedes the
 * lower, and the lower, seeing nothing of the higher, supersedes nothing of it.
 */
export class ProjectQueue {
  constructor(
    readonly dir: string,
    private readonly pollMs = 25,
  ) {}

  /** Takes the next place in the project's queue for a job; the calling process owns it for now. */
  async enqueue(project: string, jobId: string, branch: string): Promise<string> {
    const dir = this.projectDir(project);
    await mkdir(dir, { recursive: true });
    for (let attempt = 0; attempt < 1000; attempt++) {
      const tickets = await this.tickets(project);
      const last = tickets.length === 0 ? 0 : Number(tickets[tickets.length - 1]);
      const ticket = String(last + 1).padStart(12, '0');
      const entry: QueueEntry = { ticket, jobId, branch, pid: process.pid, group: false };
      if (!(await createFileExclusive(join(dir, ticket), JSON.stringify(entry)))) continue;
      const after = await this.tickets(project);
      if (after[after.length - 1] === ticket) return ticket;
      // A higher ticket was taken before ours: its trigger may have decided without seeing us.
      await this.removeIfOwn(project, ticket, jobId);
    }
    throw new LocalStateError(`cannot take a place in the queue of project '${project}' (${dir})`);
  }

  /**
   * The newly queued job at `ticket` joins its project's lane: the core decides (`admit`), and
   * each waiting job it supersedes whose wait this call ends is passed to `onSuperseded` (to
   * record it) before its place is removed. Returns those jobs.
   */
  async admit(
    project: string,
    ticket: string,
    mode: LaneMode,
    onSuperseded: (entry: QueueEntry, by: string) => Promise<void>,
  ): Promise<QueueEntry[]> {
    const me = await this.read(project, ticket);
    if (me === undefined) {
      throw new LocalStateError(`the queue place ${ticket} of project '${project}' disappeared`);
    }
    const ahead = await this.liveAhead(project, ticket);
    const [holder, ...waiting] = ahead;
    const lane: Lane = {
      ...(holder === undefined ? {} : { holder: laneEntry(holder) }),
      waiting: waiting.map(laneEntry),
    };
    const decision = admit(lane, laneEntry(me), mode);
    const superseded: QueueEntry[] = [];
    for (const loser of decision.superseded) {
      const entry = waiting.find((e) => e.jobId === loser.id);
      if (entry === undefined) continue;
      // Lost: it started meanwhile, or another newer trigger superseded it first.
      if (!(await this.claimEnd(project, entry.jobId, { kind: 'superseded', by: me.jobId }))) continue;
      if ((await this.read(project, entry.ticket))?.jobId !== entry.jobId) {
        // It ran and ended (or its trigger failed) between our look and our claim: nothing to end.
        await this.forgetEnd(project, entry.jobId);
        continue;
      }
      await onSuperseded(entry, me.jobId);
      await this.removeIfOwn(project, entry.ticket, entry.jobId);
      superseded.push(entry);
    }
    return superseded;
  }

  /**
   * Hands the place over to another process (the job's runner). A place already gone (the job
   * was superseded meanwhile) is not made again: false.
   */
  async setOwner(project: string, ticket: string, pid: number, group: boolean): Promise<boolean> {
    const entry = await this.read(project, ticket);
    if (entry === undefined) return false;
    await writeFileAtomic(join(this.projectDir(project), ticket), JSON.stringify({ ...entry, pid, group }));
    return true;
  }

  /** Adds the deploy command's process group to the place: it keeps the place while it lives. */
  async setCommandGroup(project: string, ticket: string, commandGroup: number): Promise<void> {
    const entry = await this.read(project, ticket);
    if (entry === undefined) return;
    await writeFileAtomic(join(this.projectDir(project), ticket), JSON.stringify({ ...entry, commandGroup }));
  }

  /**
   * Gives up a place. With `jobId`, only that job's place (a ticket number is taken again once
   * every place above it is gone), and the record of how its wait ended goes with it, last:
   * while the place exists, its end must stay decided.
   */
  async release(project: string, ticket: string, jobId?: string): Promise<void> {
    if (jobId === undefined) {
      await rm(join(this.projectDir(project), ticket), { force: true });
      return;
    }
    await this.removeIfOwn(project, ticket, jobId);
    await this.forgetEnd(project, jobId);
  }

  /** Removes the place at `ticket` if it is still the job's (not a later job's under the same number). */
  private async removeIfOwn(project: string, ticket: string, jobId: string): Promise<void> {
    let entry: QueueEntry | undefined;
    try {
      entry = await this.read(project, ticket);
    } catch {
      entry = undefined;
    }
    if (entry?.jobId === jobId) await rm(join(this.projectDir(project), ticket), { force: true });
  }

  /**
   * Decides how a job's wait ends, if nobody has yet: true when this call decided it. The file is
   * created whole and exclusively (see atomic-file.ts), so exactly one caller ever wins.
   */
  async claimEnd(project: string, jobId: string, end: WaitEnd): Promise<boolean> {
    return createFileExclusive(this.endPath(project, jobId), JSON.stringify(end));
  }

  /** How the job's wait ended, or undefined while it waits (or after its place was released). */
  async readEnd(project: string, jobId: string): Promise<WaitEnd | undefined> {
    const path = this.endPath(project, jobId);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new LocalStateError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
    }
    try {
      const end = JSON.parse(text) as WaitEnd;
      if (end.kind === 'run' || end.kind === 'stopped') return end;
      if (end.kind === 'superseded' && typeof end.by === 'string') return end;
    } catch {
      // Reported below: it is only ever written whole.
    }
    throw new LocalStateError(`${path} is not a queue end: remove it`);
  }

  private async forgetEnd(project: string, jobId: string): Promise<void> {
    await rm(this.endPath(project, jobId), { force: true });
  }

  /** Decides the end if nobody has, and returns the end decided, by us or before us. */
  private async settleEnd(project: string, jobId: string, end: WaitEnd): Promise<WaitEnd> {
    if (await this.claimEnd(project, jobId, end)) return end;
    const decided = await this.readEnd(project, jobId);
    if (decided === undefined) {
      throw new LocalStateError(`the end of job ${jobId} in project '${project}' disappeared`);
    }
    return decided;
  }

  async read(project: string, ticket: string): Promise<QueueEntry | undefined> {
    const path = join(this.projectDir(project), ticket);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new LocalStateError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
    }
    try {
      const entry = JSON.parse(text) as QueueEntry;
      if (typeof entry.pid === 'number' && typeof entry.jobId === 'string') return { ...entry, ticket };
    } catch {
      // Reported below: a queue entry is only ever written whole, so this one was edited by hand.
    }
    throw new LocalStateError(`${path} is not a queue entry: remove it`);
  }

  /**
   * Waits until the job's ticket is first among the live entries of its project, and returns how
   * the wait ended: `run` (its turn), `superseded` (a newer trigger of its branch took its place:
   * it must not run) or `stopped` (`stopped` said so). Stale entries ahead are removed and passed
   * to `onStale`; `onWaiting` hears of each job it waits behind.
   */
  async waitTurn(
    project: string,
    ticket: string,
    jobId: string,
    hooks: {
      onWaiting?: (ahead: QueueEntry) => void;
      onStale?: (stale: QueueEntry) => Promise<void>;
      /** Checked while waiting: true gives up the wait, which ends `stopped` (unless superseded first). */
      stopped?: () => boolean;
    } = {},
  ): Promise<WaitEnd> {
    let reported: string | undefined;
    for (;;) {
      const decided = await this.readEnd(project, jobId);
      if (decided !== undefined) return decided;
      if (hooks.stopped?.()) return this.settleEnd(project, jobId, { kind: 'stopped' });
      const ahead = await this.firstLiveAhead(project, ticket, hooks.onStale);
      if (ahead === undefined) break;
      if (ahead.ticket !== reported) {
        reported = ahead.ticket;
        hooks.onWaiting?.(ahead);
      }
      await sleep(this.pollMs);
    }
    const end = await this.settleEnd(project, jobId, { kind: 'run' });
    if (end.kind === 'run' && (await this.read(project, ticket))?.jobId !== jobId) {
      throw new LocalStateError(`the queue place ${ticket} of project '${project}' disappeared`);
    }
    return end;
  }

  /** Whether the entry exists and its owner is alive. */
  async isLive(project: string, ticket: string): Promise<boolean> {
    const entry = await this.read(project, ticket);
    return entry !== undefined && ownerAlive(entry);
  }

  /** Whether a job's wait has ended for another reason than its turn: it no longer holds a place. */
  private async leaving(project: string, entry: QueueEntry): Promise<boolean> {
    const end = await this.readEnd(project, entry.jobId);
    return end !== undefined && end.kind !== 'run';
  }

  /** The live entries below `ticket` that still wait or run, oldest first. Stale ones are left to waitTurn. */
  private async liveAhead(project: string, ticket: string): Promise<QueueEntry[]> {
    const live: QueueEntry[] = [];
    for (const other of await this.tickets(project)) {
      if (other >= ticket) break;
      const entry = await this.read(project, other);
      if (entry === undefined || !ownerAlive(entry) || (await this.leaving(project, entry))) continue;
      live.push(entry);
    }
    return live;
  }

  private async firstLiveAhead(
    project: string,
    ticket: string,
    onStale: ((stale: QueueEntry) => Promise<void>) | undefined,
  ): Promise<QueueEntry | undefined> {
    for (const other of await this.tickets(project)) {
      if (other >= ticket) return undefined;
      const entry = await this.read(project, other);
      if (entry === undefined) continue;
      if (ownerAlive(entry)) {
        if (await this.leaving(project, entry)) continue;
        return entry;
      }
      await rm(join(this.projectDir(project), other), { force: true });
      await onStale?.(entry);
      await this.forgetEnd(project, entry.jobId);
    }
    return undefined;
  }

  private async tickets(project: string): Promise<string[]> {
    try {
      return (await readdir(this.projectDir(project))).filter((n) => TICKET.test(n)).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new LocalStateError(`cannot list ${this.projectDir(project)}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  private endPath(project: string, jobId: string): string {
    return join(this.projectDir(project), `${parseJobId(jobId)}${END_SUFFIX}`);
  }

  private projectDir(project: string): string {
    // Project names are checked by parseProjectName before they get here: no '/', no '..'.
    return join(this.dir, project);
  }
}

/** A queue entry as the core sees it. An entry written before branches were kept matches none. */
function laneEntry(entry: QueueEntry): LaneEntry {
  return { id: entry.jobId, branch: entry.branch ?? '' };
}

/** Whether the place is held: by its owner, its owner's process group, or its deploy command's group. */
export function ownerAlive(entry: Pick<QueueEntry, 'pid' | 'group' | 'commandGroup'>): boolean {
  return (
    exists(entry.pid) ||
    (entry.group && exists(-entry.pid)) ||
    (entry.commandGroup !== undefined && groupExists(entry.commandGroup))
  );
}

/** Whether any living process of a process group is left. */
export function groupExists(pgid: number): boolean {
  return pgid > 1 && exists(-pgid);
}

/**
 * Whether a process is alive. Signal 0 checks existence (EPERM: it exists but is someone else's);
 * where /proc is there, a zombie (dead, not yet reaped by its parent) counts as gone: a runner
 * killed under a long-lived parent must not hold its project until that parent reaps it.
 */
function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return pid < 0 ? groupHasLiving(-pid) : !isZombie(pid);
}

function isZombie(pid: number): boolean {
  const state = procState(String(pid));
  return state === 'Z' || state === 'X';
}

/** Whether a process group has a member that is not a zombie (every member, when /proc is absent). */
function groupHasLiving(pgid: number): boolean {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return true;
  }
  return pids.some((pid) => {
    const stat = procStat(pid);
    return stat !== undefined && stat.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X';
  });
}

function procState(pid: string): string | undefined {
  return procStat(pid)?.state ?? (existsSync('/proc/self/stat') ? undefined : 'R');
}

// /proc/<pid>/stat: `pid (comm) state ppid pgrp …`; comm may hold spaces and parentheses.
function procStat(pid: string): { state: string; pgrp: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', pgrp: Number(fields[2]) };
}
