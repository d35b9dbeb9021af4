import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CommandError } from '../core/errors.js';
import { ExitCode } from '../core/exit-codes.js';
import type { Redactor } from '../core/redact.js';
import { stopGroupOnAbort, stopReasonOf } from './process-group.js';

/** `timeout(1)`'s status for a command it stopped: what a deadline gives the deploy command. */
export const DEADLINE_EXIT_STATUS = 124;

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
   * Aborts when the job must stop: its deadline passed, or the worker got SIGTERM or SIGINT
   * (CodeBuild stops a build with SIGTERM). The command's process group then gets the reason's
   * signal, and SIGKILL after `graceMs`.
   */
  readonly signal?: AbortSignal;
  /**
   * How long a stopped command may take to exit before its group is killed.
   * @default 10_000
   */
  readonly graceMs?: number;
}

/**
 * Runs the deploy command without a shell, in its own process group, streaming its output live
 * through the redactor. Resolves when it exits 0; otherwise throws a CommandError carrying the
 * exit status (128 + signal number when killed, as shells report it; 124 when a deadline stopped
 * it, as `timeout(1)` reports it).
 */
export function runCommand(options: RunCommandOptions): Promise<void> {
  const [program, ...args] = options.argv;
  if (program === undefined)
    return Promise.reject(new CommandError('command is empty', ExitCode.commandNotFound));
  if (options.signal?.aborted) {
    // Stopped before it started (between the fetch and the command): start nothing.
    const stop = stopReasonOf(options.signal);
    return Promise.reject(
      new CommandError(
        `command not started: ${stop.message}`,
        stop.deadline ? DEADLINE_EXIT_STATUS : 128 + constants.signals[stop.signal],
      ),
    );
  }

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
    const done = stopGroupOnAbort(child.pid, options.signal, {
      first: (reason) => reason.signal,
      graceMs: options.graceMs ?? 10_000,
    });

    // Resolve only once the redacted output has been written, so nothing trails the result.
    // One redacting group for both: a log that merges them (CodeBuild's) must not show a secret
    // printed half on stdout and half on stderr.
    const [redactOut, redactErr] = options.redactor.streams(2);
    const output = Promise.all([
      pipeline(child.stdout, redactOut as Transform, options.stdout, { end: false }),
      pipeline(child.stderr, redactErr as Transform, options.stderr, { end: false }),
    ]);
    let settled = false;

    child.on('error', (error: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      done();
      const notFound = error.code === 'ENOENT';
      // A script committed without its executable bit: the fix is in the repository, so say it.
      const hint =
        error.code === 'EACCES'
          ? ` (not executable: run chmod +x ${program} in the repository, or git update-index --chmod=+x ${program}, and commit)`
          : '';
      reject(
        new CommandError(
          notFound
            ? `command ${JSON.stringify(program)} not found (run in ${options.cwd})`
            : `command ${JSON.stringify(program)} could not start: ${error.code ?? error.message}${hint}`,
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
          // A deadline fails the job even if the command, told to stop, exits 0.
          const stop = options.signal?.aborted ? stopReasonOf(options.signal) : undefined;
          if (stop?.deadline) {
            return reject(new CommandError(`command stopped: ${stop.message}`, DEADLINE_EXIT_STATUS));
          }
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
