import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { type CliDeps, runCli } from '../../src/cli/program.js';

export const CLI_BUNDLE = resolve(import.meta.dirname, '../../dist/cli.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `iwomp` in this process with injected dependencies, collecting what it prints. */
export async function runCliInProcess(
  argv: readonly string[],
  deps: Omit<CliDeps, 'stdout' | 'stderr'> & { stdin?: string } = {},
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const { stdin, ...rest } = deps;
  const code = await runCli(argv, {
    env: {},
    ...rest,
    ...(stdin === undefined ? {} : { readStdin: async () => stdin }),
    stdout: {
      write: (s: string) => {
        stdout += s;
        return true;
      },
    },
    stderr: {
      write: (s: string) => {
        stderr += s;
        return true;
      },
    },
  });
  return { code, stdout, stderr };
}

/** Runs the built CLI (`dist/cli.js`) as a child process with exactly `env` plus PATH and HOME. */
export function runCliProcess(
  argv: readonly string[],
  options: { env?: Record<string, string>; cwd?: string; stdin?: string } = {},
): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI_BUNDLE, ...argv], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...options.env },
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
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}
