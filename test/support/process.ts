import { spawn } from 'node:child_process';

export interface ProcessRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunProcessOptions {
  /** The child's whole environment, on top of PATH and HOME. */
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  readonly stdin?: string;
  readonly onSpawn?: (pid: number) => void;
}

/**
 * Runs a program (argv, no shell) with exactly the given environment plus PATH and HOME, and
 * collects its output: how the tests run the built bundles and the seed's scripts.
 */
export function runProcess(
  command: string,
  args: readonly string[],
  options: RunProcessOptions = {},
): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/tmp',
        ...mutationTestingEnv(),
        ...options.env,
      },
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      stdio: ['pipe', 'pipe', 'pipe'],
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
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    // A child may exit before it reads its input (EPIPE): that is its answer, not a test error.
    child.stdin.on('error', () => {});
    child.stdin.end(options.stdin ?? '');
  });
}

/**
 * Under `npm run mutate` only: what carries the active mutant into the child and its coverage
 * back (test/support/stryker-setup.ts). Empty in ordinary runs, so children get exactly their env.
 */
function mutationTestingEnv(): Record<string, string> {
  if (process.env.__STRYKER_NAMESPACE === undefined) return {};
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && (key.startsWith('__STRYKER_') || key === 'NODE_OPTIONS')) env[key] = value;
  }
  return env;
}
