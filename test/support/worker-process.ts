import { resolve } from 'node:path';
import { type ProcessRun, runProcess } from './process.js';

export const WORKER_BUNDLE = resolve(import.meta.dirname, '../../dist/worker.js');

export type WorkerRun = ProcessRun;

/**
 * Runs the built worker (`dist/worker.js`, what CodeBuild runs) with exactly the given
 * environment plus PATH and HOME, and collects its output.
 */
export function runWorkerProcess(
  env: Record<string, string>,
  options: { onSpawn?: (pid: number) => void } = {},
): Promise<WorkerRun> {
  return runProcess(process.execPath, [WORKER_BUNDLE], { env, ...options });
}
