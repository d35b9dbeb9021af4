import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessInfo {
  readonly pid: number;
  /** argv joined with spaces. */
  readonly cmdline: string;
}

/**
 * Processes of this machine (the ones this user may read) whose environment holds `environMark` or
 * whose command line holds `cmdlineMark`: how a test proves that no git helper still carries a
 * token after the worker ended. Zombies (already dead, waiting to be reaped) are not counted.
 */
export function findProcesses(match: { environMark?: string; cmdlineMark?: string }): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (/^\d+ \(.*\) Z /s.test(stat)) continue;
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
      const byCmdline = match.cmdlineMark !== undefined && cmdline.includes(match.cmdlineMark);
      let bySecret = false;
      if (match.environMark !== undefined) {
        try {
          bySecret = readFileSync(`/proc/${pid}/environ`, 'utf8').includes(match.environMark);
        } catch {
          // Another user's process: its environment is not ours to read, and not ours to worry about.
        }
      }
      if (byCmdline || bySecret) found.push({ pid, cmdline });
    } catch {
      // The process ended while it was being read.
    }
  }
  return found;
}

/** Ends processes a failed test left behind (each found by pid, never by name). */
export function killAll(processes: readonly ProcessInfo[]): void {
  for (const { pid } of processes) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
}

/** Whether a process id is alive (not a zombie). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z /s.test(stat);
  } catch {
    return false;
  }
}
