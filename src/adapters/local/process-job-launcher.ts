import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DEFAULT_LANE_MODE, type LaneMode } from '../../core/deploy-lane.js';
import { isFinished, markSuperseded } from '../../core/job-record.js';
import { DEFAULT_CONFIG_PATH } from '../../core/names.js';
import { writeFileAtomic } from '../../local/atomic-file.js';
import { LocalStateError } from '../../local/errors.js';
import { type LocalJobRecord, newJobId } from '../../local/job-record.js';
import { JobStore } from '../../local/job-store.js';
import { joinLane } from '../../local/join-lane.js';
import { ProjectQueue } from '../../local/project-queue.js';
import { type LocalPaths, localPaths, PRIVATE_FILE_MODE, preparePrivateDirs } from '../../local/state-dir.js';
import type { JobLauncher, JobRequest, StartedJob } from '../../ports/job-launcher.js';
import type { RegistrySpec } from '../create-registry.js';

export interface ProcessJobLauncherProps {
  /** The local state directory (jobs, queue, registry). */
  readonly stateDir: string;
  /**
   * argv of the job runner, which waits for the project's turn and runs the worker.
   * @default - `node dist/local-runner.js`
   */
  readonly runnerCommand?: readonly string[];
  /**
   * argv of the worker program: what CodeBuild runs.
   * @default - `node dist/worker.js`
   */
  readonly workerCommand?: readonly string[];
  /**
   * The environment jobs start from (the deploy command inherits it, as it inherits the build
   * role's in CodeBuild). The worker contract variables are always set by the runner, never inherited.
   * @default process.env
   */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * `CONFIGPATH` given to the worker. The folder registry does not use it; it is passed so the
   * worker sees exactly what it sees in CodeBuild.
   * @default 'iwomp-in-aws'
   */
  readonly configPath?: string;
  /**
   * The registry the worker reads (`IWOMP_REGISTRY`). The trigger must be checked against the
   * same one: `LocalBackend` builds both from this.
   * @default - the folder `<stateDir>/registry`
   */
  readonly registry?: RegistrySpec;
  /**
   * The project's `concurrency` mode: what a new job does to the jobs of its branch waiting ahead
   * of it (see core/deploy-lane.ts). `LocalBackend` reads it from the registry.
   * @default - `supersede`
   */
  readonly laneMode?: (project: string) => Promise<LaneMode>;
}

/** How long an idempotency token maps to its job, as CodeBuild's StartBuild does. */
const TOKEN_LIFETIME_MS = 5 * 60 * 1000;

/**
 * Local mode's job launcher: each job is a record and a log under the state directory, and a
 * detached runner process (`local-runner`) that waits for the project's turn, then runs the
 * worker program as a child process with CodeBuild's environment contract. `start` returns as
 * soon as the job is queued and its runner is started, like StartBuild.
 */
export class ProcessJobLauncher implements JobLauncher {
  readonly paths: LocalPaths;
  readonly store: JobStore;
  readonly queue: ProjectQueue;
  private readonly runnerCommand: readonly string[];
  private readonly workerCommand: readonly string[];
  private readonly env: NodeJS.ProcessEnv;
  private readonly configPath: string;
  readonly registrySpec: RegistrySpec;
  private readonly laneMode: (project: string) => Promise<LaneMode>;

  constructor(props: ProcessJobLauncherProps) {
    this.paths = localPaths(props.stateDir);
    this.store = new JobStore(this.paths.jobs, this.paths.root);
    this.queue = new ProjectQueue(this.paths.queue);
    this.runnerCommand = props.runnerCommand ?? [process.execPath, bundledProgram('local-runner')];
    this.workerCommand = props.workerCommand ?? [process.execPath, bundledProgram('worker')];
    this.env = props.env ?? process.env;
    this.configPath = props.configPath ?? DEFAULT_CONFIG_PATH;
    this.registrySpec = props.registry ?? { kind: 'file', dir: this.paths.registry };
    this.laneMode = props.laneMode ?? (async () => DEFAULT_LANE_MODE);
  }

  async start(request: JobRequest): Promise<StartedJob> {
    await preparePrivateDirs(this.paths);
    const tokenFile =
      request.idempotencyToken === undefined
        ? undefined
        : join(this.paths.tokens, createHash('sha256').update(request.idempotencyToken).digest('hex'));
    if (tokenFile !== undefined) {
      const earlier = await this.jobForToken(tokenFile);
      if (earlier !== undefined) return { id: earlier };
    }

    const now = new Date();
    const id = newJobId(request.project, now);
    // The place in the queue is taken here, before returning, so two triggers made one after
    // the other run in that order whatever their runners' start-up times.
    const ticket = await this.queue.enqueue(request.project, id, request.branch);
    const record: LocalJobRecord = {
      version: 1,
      id,
      project: request.project,
      branch: request.branch,
      ...(request.commit === undefined ? {} : { commit: request.commit }),
      state: 'queued',
      ticket,
      createdAt: now.toISOString(),
    };
    let created = false;
    try {
      await this.store.create(record);
      created = true;
      // Decided before returning, as the trigger is: `jobs list` shows who was superseded at once.
      await joinLane(this, record, await this.laneMode(request.project));
      const pid = await this.spawnRunner(id);
      await this.queue.setOwner(request.project, ticket, pid, true);
    } catch (error) {
      // The job's wait ends here, unless a newer trigger superseded it first: then it says so.
      const end = await this.queue.claimEnd(request.project, id, { kind: 'stopped' }).then(
        async (won) => (won ? undefined : await this.queue.readEnd(request.project, id)),
        () => undefined,
      );
      await this.queue.release(request.project, ticket, id);
      if (created) {
        const reason = error instanceof Error ? error.message : String(error);
        const current = await this.store.read(id).catch(() => record);
        if (!isFinished(current.state)) {
          await this.store
            .write(
              end?.kind === 'superseded'
                ? markSuperseded(current, end.by, new Date())
                : { ...current, state: 'failed', error: reason, finishedAt: new Date().toISOString() },
            )
            .catch(() => undefined);
        }
      }
      throw error;
    }
    if (tokenFile !== undefined) await writeFileAtomic(tokenFile, id);
    return { id };
  }

  private async spawnRunner(id: string): Promise<number> {
    const [program, ...args] = this.runnerCommand;
    if (program === undefined) throw new LocalStateError('runnerCommand is empty');
    // The runner's own stderr goes to the job log: if it ever crashes, the log says why.
    const log = await open(this.store.logPath(id), 'a', PRIVATE_FILE_MODE);
    try {
      const child = spawn(
        program,
        [
          ...args,
          `--state-dir=${this.paths.root}`,
          `--job=${id}`,
          `--config-path=${this.configPath}`,
          `--registry=${formatRegistrySpec(this.registrySpec)}`,
          '--',
          ...this.workerCommand,
        ],
        // Detached: its own process group, so the worker it starts shares a group the queue can
        // check, and a Ctrl-C in the terminal that triggered it stops the follower, not the job.
        { detached: true, stdio: ['ignore', 'ignore', log.fd], env: this.env, cwd: this.paths.root },
      );
      const pid = await new Promise<number>((resolvePid, reject) => {
        child.once('spawn', () => resolvePid(child.pid as number));
        child.once('error', (error) =>
          reject(
            new LocalStateError(`cannot start the job runner ${program}: ${error.message}`, { cause: error }),
          ),
        );
      });
      child.unref();
      return pid;
    } finally {
      await log.close();
    }
  }

  private async jobForToken(tokenFile: string): Promise<string | undefined> {
    try {
      const [id, info] = await Promise.all([readFile(tokenFile, 'utf8'), stat(tokenFile)]);
      return Date.now() - info.mtimeMs < TOKEN_LIFETIME_MS ? id : undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }
}

/**
 * A program built by `npm run build`: beside this module when it is bundled into dist/ (or one up,
 * when it landed in dist/chunks/), or in the package's dist/ when it runs from source (tests, `tsx`).
 */
export function bundledProgram(name: string): string {
  const candidates = [
    join(import.meta.dirname, `${name}.js`),
    join(import.meta.dirname, '..', `${name}.js`),
    resolve(import.meta.dirname, '../../../dist', `${name}.js`),
  ];
  const found = candidates.find((path) => existsSync(path));
  if (found === undefined)
    throw new LocalStateError(
      `cannot find ${name}.js (looked in ${candidates.join(', ')}): run npm run build`,
    );
  return found;
}

/** The `IWOMP_REGISTRY` value that `parseRegistrySpec` reads back as this spec. */
export function formatRegistrySpec(spec: RegistrySpec): string {
  return spec.kind === 'file' ? `file:${resolve(spec.dir)}` : 'ssm';
}
