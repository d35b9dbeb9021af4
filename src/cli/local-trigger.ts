import { constants } from 'node:os';
import type { LocalBackend } from '../adapters/local/local-backend.js';
import { ExitCode } from '../core/exit-codes.js';
import { isFinished, jobElapsedMs } from '../core/job-record.js';
import { TriggerRejectedError } from './errors.js';
import { followDisplay } from './job-progress.js';
import type {
  LocalTriggerContext,
  LocalTriggerFactory,
  TriggerBackend,
  TriggerReport,
  TriggerRequest,
} from './trigger-backend.js';

export interface LocalTriggerOptions {
  /**
   * argv of the job runner and of the worker (see `ProcessJobLauncherProps`).
   * @default - `node dist/local-runner.js` and `node dist/worker.js`
   */
  readonly runnerCommand?: readonly string[];
  readonly workerCommand?: readonly string[];
  /**
   * Calls `stop` on Ctrl-C while `--wait` follows a job; returns a function that stops listening.
   * @default - the process's SIGINT
   */
  readonly onInterrupt?: (stop: () => void) => () => void;
}

/** A shell's status for a program ended by Ctrl-C: 128 + SIGINT. */
export const INTERRUPTED_EXIT_CODE = 128 + constants.signals.SIGINT;

function onSigint(stop: () => void): () => void {
  process.once('SIGINT', stop);
  return () => process.off('SIGINT', stop);
}

/**
 * `iwomp trigger --local`: the Lambda's decision (`handleTrigger`) against the registry the CLI
 * resolved, then a local job. Without `--wait` it returns as soon as the job is queued; with
 * `--wait` it follows the job (log and progress on stderr) and exits with the job's status.
 */
export function createLocalTrigger(options: LocalTriggerOptions = {}): LocalTriggerFactory {
  return (context) => new LocalTriggerBackend(context, options);
}

/** The default `localTrigger` of `runCli`. */
export const localTrigger: LocalTriggerFactory = createLocalTrigger();

class LocalTriggerBackend implements TriggerBackend {
  constructor(
    private readonly context: LocalTriggerContext,
    private readonly options: LocalTriggerOptions,
  ) {}

  async trigger(request: TriggerRequest): Promise<TriggerReport> {
    const local = await this.backend();
    request.beforeSend?.();
    const outcome = await local.trigger(request.message);
    if (outcome.outcome === 'rejected') throw new TriggerRejectedError(`rejected: ${outcome.reason}`);
    const id = outcome.jobId;
    const { stderr } = this.context.io;
    if (!request.wait) {
      stderr.write(`queued job ${id}; follow it with: iwomp jobs logs ${id} --follow\n`);
      return {
        lines: [id],
        json: { backend: 'local', jobId: id, message: request.message, job: await local.show(id) },
      };
    }
    stderr.write(`» job ${id}\n`);
    // The log goes to stderr with the progress: stdout keeps only the result (the id, or --json).
    const display = followDisplay({ log: stderr, progress: stderr });
    // Ctrl-C stops the following, not the job: the job runs in its own process group, on its own.
    const interrupt = new AbortController();
    const stopListening = (this.options.onInterrupt ?? onSigint)(() => interrupt.abort());
    let record: Awaited<ReturnType<LocalBackend['follow']>>;
    try {
      record = await local.follow(id, { ...display.hooks, signal: interrupt.signal });
    } finally {
      stopListening();
    }
    if (!isFinished(record.state)) {
      stderr.write(
        `\niwomp: stopped following job ${id}; it goes on. Follow it: iwomp jobs logs ${id} --follow; stop it: iwomp jobs cancel ${id}\n`,
      );
      return {
        lines: [id],
        json: { backend: 'local', jobId: id, message: request.message, job: record },
        exitCode: INTERRUPTED_EXIT_CODE,
      };
    }
    display.finish(record, jobElapsedMs(record, Date.now()));
    return {
      lines: [id],
      json: { backend: 'local', jobId: id, message: request.message, job: record },
      // A job always ends with an exit code; a record without one is a bug, reported as the worker's.
      exitCode: record.exitCode ?? ExitCode.internal,
    };
  }

  private async backend(): Promise<LocalBackend> {
    // Loaded on first use: `--help` and the AWS backend never load local mode.
    const { LocalBackend } = await import('../adapters/local/local-backend.js');
    const { settings } = this.context;
    return new LocalBackend({
      stateDir: this.context.stateDir,
      env: { ...this.context.env },
      configPath: settings.configPath,
      registry: settings.registry,
      registryAdapter: this.context.registry,
      ...(this.options.runnerCommand ? { runnerCommand: this.options.runnerCommand } : {}),
      ...(this.options.workerCommand ? { workerCommand: this.options.workerCommand } : {}),
    });
  }
}
