import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createFileExclusive, writeFileAtomic } from './atomic-file.js';
import { LocalStateError } from './errors.js';

/** One place in a project's queue: which job holds it, and which process keeps it alive. */
export interface QueueEntry {
  readonly ticket: string;
  readonly jobId: string;
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

const TICKET = /^\d{12}$/;

/**
 * Per-project FIFO across processes, made of files only, so that two `iwomp trigger --local`
 * started from two shells agree without a daemon.
 *
 * `<queue>/<project>/<ticket>` holds one entry per job that is waiting or running. Tickets are
 * 12-digit numbers; a trigger takes the next one above every ticket present by creating the
 * file exclusively (`link`, which fails atomically if another trigger took the same number: it
 * then tries the next). The job with the lowest ticket whose owner is alive runs; the others wait.
 * An entry whose owner process (and process group) is gone is stale: the first waiter to see it
 * removes it and reports it, so a crashed run cannot block its project forever.
 */
export class ProjectQueue {
  constructor(
    readonly dir: string,
    private readonly pollMs = 25,
  ) {}

  /** Takes the next place in the project's queue for a job; the calling process owns it for now. */
  async enqueue(project: string, jobId: string): Promise<string> {
    const dir = this.projectDir(project);
    await mkdir(dir, { recursive: true });
    for (let attempt = 0; attempt < 1000; attempt++) {
      const tickets = await this.tickets(project);
      const last = tickets.length === 0 ? 0 : Number(tickets[tickets.length - 1]);
      const ticket = String(last + 1 + attempt).padStart(12, '0');
      const entry: QueueEntry = { ticket, jobId, pid: process.pid, group: false };
      if (await createFileExclusive(join(dir, ticket), JSON.stringify(entry))) return ticket;
    }
    throw new LocalStateError(`cannot take a place in the queue of project '${project}' (${dir})`);
  }

  /** Hands the place over to another process (the job's runner). */
  async setOwner(project: string, ticket: string, jobId: string, pid: number, group: boolean): Promise<void> {
    const entry: QueueEntry = { ticket, jobId, pid, group };
    await writeFileAtomic(join(this.projectDir(project), ticket), JSON.stringify(entry));
  }

  /** Adds the deploy command's process group to the place: it keeps the place while it lives. */
  async setCommandGroup(project: string, ticket: string, commandGroup: number): Promise<void> {
    const entry = await this.read(project, ticket);
    if (entry === undefined) return;
    await writeFileAtomic(join(this.projectDir(project), ticket), JSON.stringify({ ...entry, commandGroup }));
  }

  async release(project: string, ticket: string): Promise<void> {
    await rm(join(this.projectDir(project), ticket), { force: true });
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
   * Resolves when the ticket is first among the live entries of its project. Stale entries
   * ahead are removed and passed to `onStale`; `onWaiting` hears of each job it waits behind.
   */
  async waitTurn(
    project: string,
    ticket: string,
    hooks: {
      onWaiting?: (ahead: QueueEntry) => void;
      onStale?: (stale: QueueEntry) => Promise<void>;
      /** Checked while waiting: true gives up the wait, and waitTurn resolves false. */
      stopped?: () => boolean;
    } = {},
  ): Promise<boolean> {
    let reported: string | undefined;
    for (;;) {
      if (hooks.stopped?.()) return false;
      const ahead = await this.firstLiveAhead(project, ticket, hooks.onStale);
      if (ahead === undefined) break;
      if (ahead.ticket !== reported) {
        reported = ahead.ticket;
        hooks.onWaiting?.(ahead);
      }
      await sleep(this.pollMs);
    }
    if ((await this.read(project, ticket)) === undefined) {
      throw new LocalStateError(`the queue place ${ticket} of project '${project}' disappeared`);
    }
    return true;
  }

  /** Whether the entry exists and its owner is alive. */
  async isLive(project: string, ticket: string): Promise<boolean> {
    const entry = await this.read(project, ticket);
    return entry !== undefined && ownerAlive(entry);
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
      if (ownerAlive(entry)) return entry;
      await this.release(project, other);
      await onStale?.(entry);
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

  private projectDir(project: string): string {
    // Project names are checked by parseProjectName before they get here: no '/', no '..'.
    return join(this.dir, project);
  }
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
