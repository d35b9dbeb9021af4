import type { Command } from 'commander';
import { type AwsClients, type Backend, createBackend } from './backend.js';
import type { CliIo } from './io.js';
import { type GlobalFlags, resolveSettings } from './settings.js';
import type { LocalTriggerFactory } from './trigger-backend.js';

/** Everything a command touches outside its arguments: injected, so tests run the CLI in-process. */
export interface CliContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly io: CliIo;
  readonly readStdin: () => Promise<string>;
  readonly clients?: AwsClients;
  readonly localTrigger: LocalTriggerFactory;
  /** The worker program (`iwomp worker`): returns its exit code. */
  readonly workerMain: (env: NodeJS.ProcessEnv) => Promise<number>;
  /** Sets the exit code the CLI ends with (a command that does not set it ends with 0). */
  setExitCode(code: number): void;
}

interface Globals extends GlobalFlags {
  readonly json?: boolean;
}

/** The global flags (`--json`, `--local`, `--config-path`) wherever they were given on the line. */
export function globals(command: Command): Globals {
  return command.optsWithGlobals<Globals>();
}

export function wantsJson(command: Command): boolean {
  return globals(command).json === true;
}

/**
 * The backend for this invocation, from the global flags and the environment; `override.local`
 * picks local mode whatever they say.
 */
export function backendFor(
  context: CliContext,
  command: Command,
  override: { readonly local?: true } = {},
): Backend {
  const { configPath } = globals(command);
  const local = override.local ?? globals(command).local;
  const settings = resolveSettings(context.env, context.cwd, {
    ...(local === undefined ? {} : { local }),
    ...(configPath === undefined ? {} : { configPath }),
  });
  return createBackend(settings, {
    env: context.env,
    io: context.io,
    localTrigger: context.localTrigger,
    ...(context.clients ? { clients: context.clients } : {}),
  });
}
