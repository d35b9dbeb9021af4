import { createRegistry } from '../adapters/create-registry.js';
import { IwompError } from '../core/errors.js';
import { exitCodeFor } from '../core/exit-codes.js';
import { parseWorkerEnv } from './env.js';
import { runWorker } from './run-worker.js';

/**
 * The worker program (`iwomp-worker`): what CodeBuild runs, and what local mode runs as a child
 * process. Reads its environment once, runs one deploy, and exits with a documented code.
 */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    const workerEnv = parseWorkerEnv(env);
    const registry = createRegistry(workerEnv.registry, workerEnv.configPath);
    await runWorker(workerEnv, {
      registry,
      inheritedEnv: env,
      stdout: process.stdout,
      stderr: process.stderr,
    });
    return 0;
  } catch (error) {
    process.stderr.write(`iwomp: ${describeFailure(error)}\n`);
    return exitCodeFor(error);
  }
}

function describeFailure(error: unknown): string {
  if (error instanceof IwompError) return error.message;
  // Unexpected: still one line, so the failure reads the same as every other.
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return `internal error: ${text.split('\n')[0]}`;
}
