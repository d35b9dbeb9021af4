import type { Command } from 'commander';
import { type JobRecord, jobElapsedMs } from '../../core/job-record.js';
import { parseProjectName } from '../../core/names.js';
import type { JobTracker } from '../../ports/job-tracker.js';
import { backendFor, type CliContext, wantsJson } from '../context.js';
import { formatTable, writeJson } from '../io.js';
import { followDisplay } from '../job-progress.js';

export function registerJobs(program: Command, context: CliContext): void {
  const jobs = program
    .command('jobs')
    .summary("list local mode's jobs, show one, print or follow its log")
    .description(
      'The jobs of local mode (iwomp trigger --local), kept in <state-dir>/jobs: IWOMP_STATE_DIR, default .iwomp in the working directory. Jobs in AWS are CodeBuild builds: see them in CodeBuild.',
    );

  jobs
    .command('list')
    .description('list jobs, newest first: id, project, branch, state, exit code, created, duration')
    .option('--project <name>', 'only the jobs of this project')
    .action(async (flags: { project?: string }, command: Command) => {
      const project = flags.project === undefined ? undefined : parseProjectName(flags.project);
      const tracker = await trackerFor(context, command);
      const { jobs: rows, broken } = await tracker.list(project === undefined ? {} : { project });
      // A damaged record is reported, not allowed to hide every other job.
      for (const b of broken) context.io.stderr.write(`warning: skipped ${b.file}: ${b.problem}\n`);
      if (wantsJson(command)) return writeJson(context.io, rows);
      if (rows.length === 0) {
        context.io.stderr.write(
          `no jobs${project === undefined ? '' : ` of project '${project}'`} in ${tracker.location}\n`,
        );
        return;
      }
      context.io.stdout.write(
        formatTable(
          ['ID', 'PROJECT', 'BRANCH', 'STATE', 'EXIT', 'CREATED', 'DURATION'],
          rows.map((j) => [
            j.id,
            j.project,
            j.branch,
            j.state === 'running' && j.phase ? `running: ${j.phase}` : j.state,
            j.exitCode === undefined ? '-' : String(j.exitCode),
            shortTime(j.createdAt),
            seconds(jobElapsedMs(j, Date.now())),
          ]),
        ),
      );
    });

  jobs
    .command('show')
    .description("show one job's record: state, exit code, error, times, processes, log file")
    .argument('<id>', 'job id (as printed by iwomp trigger --local, or iwomp jobs list)')
    .action(async (id: string, _flags: unknown, command: Command) => {
      const tracker = await trackerFor(context, command);
      const record = await tracker.get(id);
      const logPath = tracker.logLocation(record.id);
      if (wantsJson(command)) return writeJson(context.io, { ...record, logPath });
      context.io.stdout.write(formatRecord(record, logPath));
    });

  jobs
    .command('logs')
    .description(
      "print a job's log: the worker's and the deploy command's output. --follow streams it until the job ends",
    )
    .argument('<id>', 'job id')
    .option(
      '-f, --follow',
      'keep printing as the job writes, until it ends (Ctrl-C stops following, not the job)',
    )
    .addHelpText(
      'after',
      "\nExits 0 whatever the job's end (see iwomp jobs show, or iwomp trigger --local --wait for its status).\nExamples:\n  iwomp jobs logs demo-20260101T120000-3fa9c1\n  iwomp jobs logs demo-20260101T120000-3fa9c1 --follow",
    )
    .action(async (id: string, flags: { follow?: boolean }, command: Command) => {
      const tracker = await trackerFor(context, command);
      const json = wantsJson(command);
      // The record first: an unknown id is "not found", not an empty log.
      let record = await tracker.get(id);
      let log = '';
      if (flags.follow === true) {
        const hooks = json
          ? {
              onOutput: (text: string) => {
                log += text;
              },
            }
          : followDisplay({ log: context.io.stdout }).hooks;
        record = await tracker.follow(record.id, hooks);
        if (!json) context.io.stderr.write(`» ${endLine(record)}\n`);
      } else {
        log = await tracker.readLog(record.id);
        if (!json) context.io.stdout.write(log);
      }
      if (json) {
        writeJson(context.io, {
          id: record.id,
          state: record.state,
          ...(record.exitCode === undefined ? {} : { exitCode: record.exitCode }),
          log,
        });
      }
    });

  registerCancel(jobs, context);
}

/** `jobs cancel`: stop a job and wait until it has ended. */
function registerCancel(jobs: Command, context: CliContext): void {
  jobs
    .command('cancel')
    .description(
      'stop a job: a waiting job never starts; a running one gets SIGTERM (its deploy command is stopped). Waits until the job has ended',
    )
    .argument('<id>', 'job id')
    .addHelpText('after', '\nExits 0 once the job has ended, whether it was cancelled or had ended already.')
    .action(async (id: string, _flags: unknown, command: Command) => {
      const tracker = await trackerFor(context, command);
      const before = await tracker.get(id);
      const record = await tracker.cancel(before.id, `cancelled with iwomp jobs cancel (pid ${process.pid})`);
      if (wantsJson(command)) return writeJson(context.io, record);
      const what =
        before.state !== record.state && record.state === 'cancelled'
          ? `cancelled job ${record.id} (it was ${before.state})`
          : `job ${record.id} had already ended: ${record.state}`;
      context.io.stdout.write(`${what}\n`);
    });
}

/** The jobs of the backend the command line names. */
function trackerFor(context: CliContext, command: Command): Promise<JobTracker> {
  return backendFor(context, command).jobs();
}

/** A store's record: the core record, and whatever the store adds (local mode: its processes). */
type ShownRecord = JobRecord & { readonly runnerPid?: number; readonly workerPid?: number };

function formatRecord(record: ShownRecord, logPath: string): string {
  const state = record.state === 'running' && record.phase ? `running: ${record.phase}` : record.state;
  const rows: [string, string | undefined][] = [
    ['id', record.id],
    ['project', record.project],
    ['branch', record.branch],
    ['commit', record.commit ?? '(branch head)'],
    ['state', record.exitCode === undefined ? state : `${state} (exit ${record.exitCode})`],
    ['error', record.error],
    ['created', record.createdAt],
    ['started', record.startedAt],
    ['finished', record.finishedAt],
    ['duration', seconds(jobElapsedMs(record, Date.now()))],
    ['runner pid', record.runnerPid === undefined ? undefined : String(record.runnerPid)],
    ['worker pid', record.workerPid === undefined ? undefined : String(record.workerPid)],
    ['log', logPath],
  ];
  return rows
    .filter((row): row is [string, string] => row[1] !== undefined)
    .map(([key, value]) => `${`${key}:`.padEnd(12)}${value}\n`)
    .join('');
}

function endLine(record: JobRecord): string {
  const exit = record.exitCode === undefined ? '' : ` (exit ${record.exitCode})`;
  const error = record.error === undefined ? '' : `: ${record.error}`;
  return `job ${record.id} ${record.state}${exit}${error}`;
}

/** `2026-01-01T12:00:00.123Z` → `2026-01-01 12:00:00Z`: the listing's width matters more than milliseconds. */
function shortTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
