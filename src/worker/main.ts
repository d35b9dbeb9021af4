import { createDeployCredentials } from '../adapters/create-deploy-credentials.js';
import { createRegistry } from '../adapters/create-registry.js';
import { IwompError } from '../core/errors.js';
import { exitCodeFor } from '../core/exit-codes.js';
import { parseDeployTableEnv, parseWorkerEnv } from './env.js';
import { fanOut, reporterFor, tableReporter, type WorkerReporter } from './reporter.js';
import { runWorker } from './run-worker.js';

/**
 * The worker program (`iwomp-worker`): what CodeBuild runs, and what local mode runs as a child
 * process. Reads its environment once, runs one deploy, and exits with a documented code.
 */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // Read before anything else, so that even a bad environment is reported to the runner.
  let reporter: WorkerReporter = reporterFor(env.IWOMP_REPORT_FD);
  const warn = (line: string) => process.stderr.write(`[iwomp] warning: ${line}\n`);
  try {
    // Next the deploy table, so that a bad PROJECTNAME (say) still reaches the record.
    const table = parseDeployTableEnv(env);
    if (table.note !== undefined) process.stderr.write(`[iwomp] ${table.note}\n`);
    if (table.target !== undefined) reporter = fanOut(reporter, tableReporter(table.target, warn));
    const workerEnv = parseWorkerEnv(env);
    const registry = createRegistry(workerEnv.registry, workerEnv.configPath);
    const { commit } = await runWorker(workerEnv, {
      registry,
      inheritedEnv: env,
      stdout: process.stdout,
      stderr: process.stderr,
      reporter,
      deployCredentials: createDeployCredentials(),
    });
    reporter.report({ type: 'outcome', exitCode: 0, commit });
    await reporter.settle();
    return 0;
  } catch (error) {
    const reason = describeFailure(error);
    const exitCode = exitCodeFor(error);
    process.stderr.write(`iwomp: ${reason}\n`);
    reporter.report({ type: 'outcome', exitCode, reason });
    await reporter.settle();
    return exitCode;
  }
}

function describeFailure(error: unknown): string {
  if (error instanceof IwompError) return error.message;
  // Unexpected: still one line, so the failure reads the same as every other.
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return `internal error: ${text.split('\n')[0]}`;
}
