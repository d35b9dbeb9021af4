import type { LocalBackend } from '../adapters/local/local-backend.js';
import { TriggerRejectedError } from './errors.js';
import { followToOutcome, type OnInterrupt, onSigint, outcomeJson } from './follow-outcome.js';
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
  readonly onInterrupt?: OnInterrupt;
}

/**
 * `iwomp trigger --local`: the Lambda's decision (`handleTrigger`) against the registry the CLI
 * resolved, then a local job. Without `--wait` it returns as soon as the job is queued; with
 * `--wait` it follows the job (log and progress on stderr) and exits with its outcome's code, as
 * `trigger --wait` does in AWS.
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
    // Ctrl-C stops the following, not the job: the job runs in its own process group, on its own.
    const { record, exitCode } = await followToOutcome({
      noun: 'job',
      id,
      stderr,
      showLog: true,
      ...(request.timeoutMs === undefined ? {} : { timeoutMs: request.timeoutMs }),
      onInterrupt: this.options.onInterrupt ?? onSigint,
      follow: (hooks) => local.follow(id, hooks),
      followHint: `Follow it: iwomp jobs logs ${id} --follow; stop it: iwomp jobs cancel ${id}`,
    });
    return {
      lines: [id],
      json: {
        backend: 'local',
        jobId: id,
        message: request.message,
        ...(record === undefined ? {} : outcomeJson(record)),
        job: record,
      },
      // The outcome's code, the same as in AWS; the worker's own code is in the final line and the JSON.
      exitCode,
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
