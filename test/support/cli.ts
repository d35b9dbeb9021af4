import { resolve } from 'node:path';
import { type CliDeps, runCli } from '../../src/cli/program.js';
import { runProcess } from './process.js';

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
  return runProcess(process.execPath, [CLI_BUNDLE, ...argv], options);
}
