import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

export const WORKER_BUNDLE = resolve(import.meta.dirname, '../../dist/worker.js');

export interface WorkerRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built worker (`dist/worker.js`, what CodeBuild runs) with exactly the given
 * environment plus PATH and HOME, and collects its output.
 */
export function runWorkerProcess(
  env: Record<string, string>,
  options: { onSpawn?: (pid: number) => void } = {},
): Promise<WorkerRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [WORKER_BUNDLE], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
}
