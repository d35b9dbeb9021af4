import { spawn } from 'node:child_process';

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Wall time of one process run, in milliseconds; throws if it fails. */
export function timeProcess(command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env: env ?? process.env });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const elapsed = performance.now() - started;
      if (code === 0) resolve(elapsed);
      else reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.slice(-500)}`));
    });
  });
}

export const ms = (value: number) => `${value.toFixed(1)} ms`;

/** Wall time and CPU time (user + system of the process and everything it ran), in milliseconds. */
export interface Measured {
  readonly wall: number;
  readonly cpu: number;
}

/**
 * Runs a command under bash and reads its children's CPU time from bash's `times` (on fd 3), so
 * git's own subprocesses count too. CPU time moves far less than wall time on a busy machine.
 */
export function measureProcess(command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(
      'bash',
      ['-c', '"$@" >/dev/null; s=$?; times >&3; exit $s', 'bench', command, ...args],
      {
        stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
        env: env ?? process.env,
      },
    );
    let stderr = '';
    let times = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdio[3]?.on('data', (d: Buffer) => {
      times += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const wall = performance.now() - started;
      // Second line: the children's user and system time, e.g. `0m0.012s 0m0.004s`.
      const seconds = [...(times.trim().split('\n')[1] ?? '').matchAll(/(\d+)m([\d.]+)s/g)].map(
        (m) => Number(m[1]) * 60 + Number(m[2]),
      );
      if (code !== 0 || seconds.length !== 2) {
        reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.slice(-500)}`));
        return;
      }
      resolve({ wall, cpu: ((seconds[0] ?? 0) + (seconds[1] ?? 0)) * 1000 });
    });
  });
}
