import { Command, CommanderError } from 'commander';
import packageJson from '../../package.json' with { type: 'json' };
import { IwompError } from '../core/errors.js';
import type { AwsClients } from './backend.js';
import { registerCompletion } from './commands/completion.js';
import { registerDeploys } from './commands/deploys.js';
import { registerProjects } from './commands/projects.js';
import { registerTrigger } from './commands/trigger.js';
import { registerWorker } from './commands/worker.js';
import type { CliContext } from './context.js';
import { nextStepFor } from './errors.js';
import { CliExitCode, cliExitCodeFor } from './exit-codes.js';
import { createIo, formatFailure, type OutputStream } from './io.js';
import { localTrigger } from './local-trigger.js';
import type { LocalTriggerFactory } from './trigger-backend.js';

/** What the CLI runs against. Everything defaults to the real process; tests inject their own. */
export interface CliDeps {
  /** @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** @default process.cwd() */
  readonly cwd?: string;
  /** @default process.stdout */
  readonly stdout?: OutputStream;
  /** @default process.stderr */
  readonly stderr?: OutputStream;
  /** @default - reads process.stdin to its end */
  readonly readStdin?: () => Promise<string>;
  /** @default - clients from the SDK's default chain, made on first use */
  readonly clients?: AwsClients;
  /** @default - the local backend: `handleTrigger` and a local job (src/cli/local-trigger.ts) */
  readonly localTrigger?: LocalTriggerFactory;
  /** @default - the worker's own `main` */
  readonly workerMain?: (env: NodeJS.ProcessEnv) => Promise<number>;
}

/** Builds the `iwomp` program. Each call makes a fresh one: commander keeps parse state on it. */
export function buildProgram(context: CliContext): Command {
  const program = new Command('iwomp')
    .description(
      'I Wanna Own My Pipeline In AWS: trigger deploys and wait for their outcome, manage the project registry, see the deploy history.',
    )
    .version(packageJson.version, '-V, --version')
    .option('--json', 'print results as JSON, for scripts')
    .option(
      '--local',
      'use the local backend (same as IWOMP_BACKEND=local): registry in <state-dir>/registry',
    )
    .option('--config-path <path>', 'SSM path of the registry (default: CONFIGPATH, else iwomp-in-aws)')
    .showSuggestionAfterError()
    // Subcommand help lists --local, --json and --config-path too: they apply there.
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({
      writeOut: (text) => context.io.stdout.write(text),
      writeErr: (text) => context.io.stderr.write(text),
      // commander's own errors ("error: unknown option '--x'") in the same one-line form as ours.
      // Its "(Did you mean trigger?)" comes on a second line: keep it, on the one line.
      outputError: (text, write) =>
        write(
          formatFailure(
            context.io,
            text
              .trim()
              .replace(/^error: /, '')
              .replace(/\n+/g, ' '),
          ),
        ),
    })
    .addHelpText(
      'after',
      '\nEnvironment: AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL (SDK default chain), IWOMP_BACKEND,\n' +
        'IWOMP_REGISTRY, IWOMP_STATE_DIR, CONFIGPATH, IWOMPINAWS_TOPIC_ARN, IWOMPINAWS_DEPLOY_TABLE,\n' +
        'IWOMPINAWS_WORKER_LOG_GROUP, GIT_BRANCH. See docs/cli.md.',
    );
  registerTrigger(program, context);
  registerProjects(program, context);
  registerDeploys(program, context);
  registerWorker(program, context);
  registerCompletion(program, context);
  return program;
}

/**
 * Runs the CLI on `argv` (the arguments after `iwomp`) and returns the exit code. Prints every
 * failure as one line on stderr; never exits the process (the entry does).
 */
export async function runCli(argv: readonly string[], deps: CliDeps = {}): Promise<number> {
  const env = deps.env ?? process.env;
  const io = createIo(deps.stdout ?? process.stdout, deps.stderr ?? process.stderr, env);
  let exitCode: number = CliExitCode.ok;
  const context: CliContext = {
    env,
    cwd: deps.cwd ?? process.cwd(),
    io,
    readStdin: deps.readStdin ?? readProcessStdin,
    ...(deps.clients ? { clients: deps.clients } : {}),
    localTrigger: deps.localTrigger ?? localTrigger,
    workerMain: deps.workerMain ?? (async (env) => (await import('../worker/main.js')).main(env)),
    setExitCode: (code) => {
      exitCode = code;
    },
  };
  try {
    await buildProgram(context).parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end with code 0; commander has already printed its message otherwise.
      return error.exitCode === 0 ? CliExitCode.ok : CliExitCode.usage;
    }
    io.stderr.write(formatFailure(io, describeFailure(error)));
    return cliExitCodeFor(error);
  }
}

function describeFailure(error: unknown): string {
  const next = nextStepFor(error);
  const suffix = next === undefined ? '' : `: ${next}`;
  if (error instanceof IwompError) return `${error.message}${suffix}`;
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return `internal error: ${text}${suffix}`;
}

async function readProcessStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
