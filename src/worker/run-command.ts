import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CommandError } from '../core/errors.js';
import { ExitCode } from '../core/exit-codes.js';
import type { Redactor } from '../core/redact.js';

export interface RunCommandOptions {
  /** argv; the program is found on PATH, or relative to `cwd` when it holds a `/`. */
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly redactor: Redactor;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** Called once the command has started, with its pid (which is also its process group). */
  readonly onSpawn?: (pid: number) => void;
  /** Run as this user and group (the worker must be root). @default - the worker's own */
  readonly uid?: number;
  readonly gid?: number;
  /**
   * Process to forward SIGTERM and SIGINT from (CodeBuild stops a build with SIGTERM).
   * @default process
   */
  readonly signals?: NodeJS.EventEmitter;
}

/**
 * Runs the deploy command without a shell, in its own process group, streaming its output live
 * through the redactor. Resolves when it exits 0; otherwise throws a CommandError carrying the
 * exit status (128 + signal number when killed, as shells report it).
 */
export function runCommand(options: RunCommandOptions): Promise<void> {
  const [program, ...args] = options.argv;
  if (program === undefined)
    return Promise.reject(new CommandError('command is empty', ExitCode.commandNotFound));
  const signals = options.signals ?? process;

  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      // libuv drops supplementary groups before switching, so root's groups do not come along.
      ...(options.uid === undefined ? {} : { uid: options.uid }),
      ...(options.gid === undefined ? {} : { gid: options.gid }),
    });
    child.once('spawn', () => {
      if (child.pid !== undefined) options.onSpawn?.(child.pid);
    });
    const forward = (signal: NodeJS.Signals) => {
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, signal);
        } catch {
          // The group is gone already: nothing left to stop.
        }
      }
    };
    signals.on('SIGTERM', forward);
    signals.on('SIGINT', forward);
    const done = () => {
      signals.off('SIGTERM', forward);
      signals.off('SIGINT', forward);
    };

    // Resolve only once the redacted output has been written, so nothing trails the result.
    const output = Promise.all([
      pipeline(child.stdout, options.redactor.stream(), options.stdout, { end: false }),
      pipeline(child.stderr, options.redactor.stream(), options.stderr, { end: false }),
    ]);
    let settled = false;

    child.on('error', (error: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      done();
      const notFound = error.code === 'ENOENT';
      reject(
        new CommandError(
          notFound
            ? `command ${JSON.stringify(program)} not found (run in ${options.cwd})`
            : `command ${JSON.stringify(program)} could not start: ${error.code ?? error.message}`,
          notFound ? ExitCode.commandNotFound : ExitCode.commandNotExecutable,
          { cause: error },
        ),
      );
    });
    child.on('close', (code, signal) => {
      if (settled) return;
      settled = true;
      done();
      output.then(
        () => {
          if (code === 0) return resolve();
          const status = code ?? 128 + (signal ? constants.signals[signal] : 0);
          reject(
            new CommandError(
              signal ? `command was killed by ${signal}` : `command failed with exit status ${status}`,
              status,
            ),
          );
        },
        (error: unknown) => reject(error),
      );
    });
  });
}
