import { spawn } from 'node:child_process';
import { type FileHandle, mkdir, open, rm } from 'node:fs/promises';
import { constants } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExitCode } from '../core/exit-codes.js';
import {
  isFinished,
  type JobPhase,
  markCancelled,
  markFailed,
  markFinished,
  markPhase,
  markRunning,
  markSuperseded,
} from '../core/job-record.js';
import { parseWorkerReport } from '../core/worker-report.js';
import type { LocalJobRecord } from './job-record.js';
import { JobStore } from './job-store.js';
import { supersededLine } from './join-lane.js';
import { groupExists, ProjectQueue, type QueueEntry, type WaitEnd } from './project-queue.js';
import { type LocalPaths, localPaths, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from './state-dir.js';

export interface RunJobOptions {
  readonly stateDir: string;
  readonly jobId: string;
  /** argv of the worker program. */
  readonly workerCommand: readonly string[];
  /** `CONFIGPATH` for the worker. */
  readonly configPath: string;
  /**
   * `IWOMP_REGISTRY` for the worker: `ssm` or `file:<dir>`.
   * @default - `file:<stateDir>/registry`
   */
  readonly registry?: string;
  /** The environment the job starts from; contract variables are replaced, never inherited. */
  readonly env: NodeJS.ProcessEnv;
  /** @default process */
  readonly signals?: NodeJS.EventEmitter;
}

/**
 * What the job runner does for one job: wait for the project's turn, run the worker with
 * CodeBuild's environment contract in a fresh work directory, stream its output to the job's
 * log, follow its phase, and record how it ended. Returns the final record.
 */
export async function runJob(options: RunJobOptions): Promise<LocalJobRecord> {
  // Listened for first, before anything is awaited. SIGTERM (from `iwomp jobs cancel`, or anyone)
  // while the job waits: it never starts. While it runs, superviseWorker forwards the signal to
  // the worker, which stops the deploy command.
  const signals = options.signals ?? process;
  let stopSignal: NodeJS.Signals | undefined;
  const onStop = (signal: NodeJS.Signals) => {
    stopSignal ??= signal;
  };
  signals.on('SIGTERM', onStop);
  signals.on('SIGINT', onStop);
  const paths = localPaths(options.stateDir);
  const store = new JobStore(paths.jobs, paths.root);
  const queue = new ProjectQueue(paths.queue);
  let record = await store.read(options.jobId);
  const log = await open(store.logPath(record.id), 'a', PRIVATE_FILE_MODE);
  // A log an older version created keeps its mode when appended to.
  await log.chmod(PRIVATE_FILE_MODE);
  const say = (line: string) => log.write(`[iwomp] ${line}\n`);
  // Record writes are chained, so phase updates and the final state land in the order they
  // happen; a failed write does not block the ones after it. `record` is the latest intended
  // state, `written` the latest one on disk.
  let written = record;
  let writes: Promise<void> = Promise.resolve();
  const save = (next: LocalJobRecord) => {
    record = next;
    writes = writes
      .catch(() => undefined)
      .then(() => store.write(next))
      .then(() => {
        written = next;
      });
    return writes;
  };

  try {
    await say(`job ${record.id}: project ${record.project}, branch ${record.branch}`);
    const turn = await queue.waitTurn(record.project, record.ticket, record.id, {
      stopped: () => stopSignal !== undefined,
      onWaiting: (ahead) => void say(`waiting for job ${ahead.jobId} of the same project to finish`),
      onStale: async (stale) => {
        await say(`job ${stale.jobId} lost its runner (pid ${stale.pid}); going on without it`);
        await markLost(store, stale, await queue.readEnd(record.project, stale.jobId));
      },
    });
    if (turn.kind === 'superseded') {
      // The newer trigger recorded it (and logged why), unless this job's record did not exist
      // yet then. A record that says so is left as it is, never turned into failed or cancelled.
      const current = await store.read(record.id);
      if (isFinished(current.state)) {
        record = current;
        written = current;
      } else {
        await log.write(`${supersededLine(record.id, turn.by)}\n`);
        await save(markSuperseded(current, turn.by, new Date()));
      }
      return record;
    }
    if (turn.kind === 'stopped') {
      const reason = await store.cancelReason(record.id);
      await say(`job ${record.id} stopped (${stopSignal}) before it started`);
      await save(
        reason === undefined
          ? markFailed(
              record,
              `the local runner was stopped (${stopSignal}) before the job started`,
              new Date(),
            )
          : markCancelled(record, reason, new Date()),
      );
      return record;
    }
    const startedAt = Date.now();
    const workDir = join(paths.work, record.id);
    await mkdir(workDir, { recursive: true, mode: PRIVATE_DIR_MODE });
    let result: { exitCode: number; error?: string };
    let commandGroup: number | undefined;
    let commandHeld: Promise<void> = Promise.resolve();
    try {
      result = await superviseWorker(options, paths, record, workDir, log, {
        onStart: (pid) =>
          save({ ...markRunning(record, new Date(startedAt)), runnerPid: process.pid, workerPid: pid }),
        // The phase is for display: a failed write of it must not stop the job.
        onPhase: (phase) => {
          const next = markPhase(record, phase);
          if (next !== record) void save(next).catch(() => undefined);
        },
        onCommand: (pid) => {
          commandGroup = pid;
          // Before anything else can happen to the worker: the place is held by the command too.
          commandHeld = queue.setCommandGroup(record.project, record.ticket, pid).catch(() => undefined);
          void save({ ...record, commandPid: pid }).catch(() => undefined);
        },
      });
      await commandHeld;
      if (commandGroup !== undefined && groupExists(commandGroup)) {
        // The worker is gone (killed) but its deploy command runs on: the project stays held, and
        // the job is not over, until the command's group has ended.
        await say(
          `the worker ended (exit ${result.exitCode}) while the deploy command (process group ${commandGroup}) ` +
            'still runs: waiting for it to end',
        );
        while (groupExists(commandGroup)) await sleep(COMMAND_POLL_MS);
        result = {
          exitCode: result.exitCode,
          error:
            `the worker stopped (exit ${result.exitCode}) before the deploy command ended; ` +
            'the command ran on to its end, and its outcome is unknown',
        };
      }
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
    const cancelled = await store.cancelReason(record.id);
    const finished =
      cancelled === undefined || result.exitCode === 0
        ? markFinished(record, result, new Date())
        : markCancelled(record, cancelled, new Date());
    const seconds = ((Date.now() - startedAt) / 1000).toFixed(2);
    await say(`job ${record.id} ${finished.state} (exit ${result.exitCode}) in ${seconds}s`);
    await save(finished);
  } catch (error) {
    // The runner itself failed (state directory unwritable, queue entry gone): still end the job.
    const message = `the local runner failed: ${(error as Error).message}`;
    await say(message).catch(() => undefined);
    await writes.catch(() => undefined);
    if (!isFinished(written.state)) await save(markFailed(record, message, new Date()));
  } finally {
    signals.off('SIGTERM', onStop);
    signals.off('SIGINT', onStop);
    await writes.catch(() => undefined);
    // Released only after the final record is written: whoever sees the place free sees the job ended.
    await queue.release(record.project, record.ticket, record.id);
    await log.close();
  }
  return record;
}

/**
 * A record just read: if it is not finished and no process holds its place in the queue any more
 * (runner, worker or deploy command), nobody will ever finish it, so it is marked lost now. The
 * runner writes the end before it gives up its place, so the record is read again before deciding.
 */
export async function settleIfLost(
  deps: { store: JobStore; queue: ProjectQueue },
  record: LocalJobRecord,
): Promise<LocalJobRecord> {
  if (isFinished(record.state) || (await deps.queue.isLive(record.project, record.ticket))) return record;
  const again = await deps.store.read(record.id);
  if (isFinished(again.state)) return again;
  const end = await deps.queue.readEnd(again.project, again.id);
  return (await markLost(deps.store, { jobId: again.id, pid: again.runnerPid ?? 0 }, end)) ?? again;
}

/**
 * Marks a job whose runner died as failed, unless it managed to finish. One superseded while it
 * waited (`end`) is recorded so: the newer trigger took its place before its runner could say it.
 */
export async function markLost(
  store: JobStore,
  entry: Pick<QueueEntry, 'jobId' | 'pid'>,
  end?: WaitEnd,
): Promise<LocalJobRecord | undefined> {
  let record: LocalJobRecord;
  try {
    record = await store.read(entry.jobId);
  } catch {
    // The trigger died before it wrote the record: there is no job to mark.
    return undefined;
  }
  if (isFinished(record.state)) return record;
  if (end?.kind === 'superseded') {
    const superseded = markSuperseded(record, end.by, new Date());
    await store.write(superseded);
    return superseded;
  }
  // A runner stopped by `jobs cancel` before it could record it still ends its job cancelled.
  const cancelled = await store.cancelReason(record.id);
  const lost =
    cancelled === undefined
      ? markFailed(record, `the local runner (pid ${entry.pid}) stopped before the job finished`, new Date())
      : markCancelled(record, cancelled, new Date());
  await store.write(lost);
  return lost;
}

/** The worker's environment: the base one without any contract variable, then the contract. */
export function workerEnvironment(
  base: NodeJS.ProcessEnv,
  job: {
    id: string;
    project: string;
    branch: string;
    commit?: string;
    configPath: string;
    /** `IWOMP_REGISTRY`: `ssm` or `file:<dir>`. */
    registry: string;
    workDir: string;
  },
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(base)) {
    if (CONTRACT.has(key) || key.startsWith('IWOMP_') || value === undefined) continue;
    env[key] = value;
  }
  env.CONFIGPATH = job.configPath;
  env.PROJECTNAME = job.project;
  env.GITBRANCH = job.branch;
  if (job.commit !== undefined) env.GITCOMMIT = job.commit;
  env.IWOMP_REGISTRY = job.registry;
  env.IWOMP_LOCAL = '1';
  env.IWOMP_WORKDIR = job.workDir;
  env.IWOMP_REPORT_FD = String(REPORT_FD);
  env.IWOMP_JOB_ID = job.id;
  // The one setting a user gives local jobs as CodeBuild's project would: who the command runs as.
  if (base.IWOMP_RUN_AS) env.IWOMP_RUN_AS = base.IWOMP_RUN_AS;
  // Deadlines pass through, so a local job can be bounded like any other; without one, a local
  // job gets CodeBuild's default build timeout, so a hung command does not hold the queue forever.
  for (const key of ['IWOMP_FETCH_TIMEOUT', 'IWOMP_JOB_TIMEOUT'] as const) {
    const value = base[key];
    if (value !== undefined && value !== '') env[key] = value;
  }
  env.IWOMP_JOB_TIMEOUT ??= String(LOCAL_JOB_TIMEOUT_SECONDS);
  return env;
}

/** A local job's deadline when its project sets no `timeoutMinutes`: CodeBuild's default, one hour. */
const LOCAL_JOB_TIMEOUT_SECONDS = 3600;

const CONTRACT = new Set(['CONFIGPATH', 'PROJECTNAME', 'GITBRANCH', 'GITCOMMIT']);

/** How often a deploy command that outlived its worker is checked for. */
const COMMAND_POLL_MS = 100;

/** The worker's report channel (core/worker-report.ts): a pipe of its own, apart from its log. */
const REPORT_FD = 3;

/**
 * Runs the worker program as a child process with CodeBuild's environment contract, appends its
 * output to the job's log, and follows its reports (phase, outcome) on their own pipe.
 */
function superviseWorker(
  options: RunJobOptions,
  paths: LocalPaths,
  record: LocalJobRecord,
  workDir: string,
  log: FileHandle,
  hooks: {
    onStart: (pid: number) => Promise<void>;
    onPhase: (phase: JobPhase) => void;
    onCommand: (pid: number) => void;
  },
): Promise<{ exitCode: number; error?: string }> {
  const [program, ...args] = options.workerCommand;
  const env = workerEnvironment(options.env, {
    id: record.id,
    project: record.project,
    branch: record.branch,
    ...(record.commit === undefined ? {} : { commit: record.commit }),
    configPath: options.configPath,
    registry: options.registry ?? `file:${paths.registry}`,
    workDir,
  });
  const signals = options.signals ?? process;
  return new Promise((resolve) => {
    if (program === undefined) {
      resolve({ exitCode: ExitCode.internal, error: 'the worker command is empty' });
      return;
    }
    const child = spawn(program, args, { cwd: workDir, env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    signals.on('SIGTERM', forward);
    signals.on('SIGINT', forward);
    // The worker's reason, from its outcome report; none when it died without reporting.
    let reason: string | undefined;
    // Output is appended in arrival order; the log file is the single place a follower reads.
    let writing = Promise.resolve();
    const append = (chunk: Buffer) => {
      writing = writing.then(() => log.write(chunk).then(() => undefined));
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    // 'close' comes after every stdio stream of the child has ended, this one included, so the
    // outcome report is read before the job is finished.
    const reports = child.stdio[REPORT_FD] as Readable | null;
    reports?.setEncoding('utf8');
    let pending = '';
    reports?.on('data', (text: string) => {
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const report = parseWorkerReport(line);
        if (report?.type === 'phase') hooks.onPhase(report.phase);
        else if (report?.type === 'command') hooks.onCommand(report.pid);
        else if (report?.type === 'outcome') reason = report.reason;
      }
    });
    let started = Promise.resolve();
    child.once('spawn', () => {
      started = hooks.onStart(child.pid as number);
    });
    let settled = false;
    const finish = (result: { exitCode: number; error?: string }) => {
      if (settled) return;
      settled = true;
      signals.off('SIGTERM', forward);
      signals.off('SIGINT', forward);
      void Promise.all([writing, started]).then(() => resolve(result));
    };
    child.once('error', (error) =>
      finish({ exitCode: ExitCode.internal, error: `cannot start the worker ${program}: ${error.message}` }),
    );
    child.once('close', (code, signal) => {
      const exitCode = code ?? 128 + (signal ? constants.signals[signal] : 0);
      finish({ exitCode, ...(reason === undefined ? {} : { error: reason }) });
    });
  });
}
